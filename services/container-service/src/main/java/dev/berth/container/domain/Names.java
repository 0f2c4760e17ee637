package dev.berth.container.domain;

import dev.berth.events.DomainException;

import java.util.List;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/** Container names: Docker's validity rule and its {@code adjective_surname} generator. */
public final class Names {

    private static final Pattern VALID = Pattern.compile("/?[a-zA-Z0-9][a-zA-Z0-9_.-]+");

    private static final List<String> LEFT = List.of("admiring", "adoring", "affectionate", "agitated", "amazing",
            "angry", "awesome", "beautiful", "blissful", "bold", "boring", "brave", "busy", "charming", "clever",
            "compassionate", "competent", "condescending", "confident", "cool", "cranky", "crazy", "dazzling",
            "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent",
            "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
            "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful", "hungry",
            "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing",
            "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
            "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless",
            "quirky", "quizzical", "recursing", "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly",
            "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting",
            "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial",
            "youthful", "zealous", "zen");

    private static final List<String> RIGHT = List.of("agnesi", "albattani", "allen", "archimedes", "ardinghelli",
            "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "bohr", "booth", "borg",
            "bose", "brahmagupta", "brattain", "brown", "burnell", "carson", "cerf", "chandrasekhar", "clarke",
            "colden", "cori", "curie", "darwin", "davinci", "diffie", "dijkstra", "dirac", "driscoll", "dubinsky",
            "easley", "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi", "feynman",
            "franklin", "galileo", "gates", "goldberg", "goodall", "gould", "greider", "hamilton", "hawking",
            "heisenberg", "hellman", "hermann", "hodgkin", "hofstadter", "hopper", "hypatia", "jackson", "jang",
            "jennings", "johnson", "joliot", "kalam", "keldysh", "kepler", "khorana", "kilby", "knuth", "kowalevski",
            "lalande", "lamarr", "lamport", "leakey", "leavitt", "lederberg", "lehmann", "lewin", "liskov",
            "lovelace", "lumiere", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "mirzakhani", "montalcini",
            "moore", "morse", "napier", "nash", "neumann", "newton", "nightingale", "nobel", "noether", "noyce",
            "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy", "raman", "ramanujan", "ride",
            "ritchie", "roentgen", "rosalind", "saha", "sammet", "shannon", "shaw", "shockley", "sinoussi", "snyder",
            "stonebraker", "swanson", "swartz", "tesla", "thompson", "torvalds", "turing", "varahamihira",
            "visvesvaraya", "volhard", "wescoff", "wilbur", "wiles", "williams", "wilson", "wing", "wozniak",
            "wright", "wu", "yalow", "yonath", "zhukovsky");

    private Names() {
    }

    /** A Docker-style random name; {@code retry > 0} appends a digit as Docker does after a collision. */
    public static String random(RandomGenerator random, int retry) {
        String name = LEFT.get(random.nextInt(LEFT.size())) + "_" + RIGHT.get(random.nextInt(RIGHT.size()));
        return retry > 0 ? name + random.nextInt(10) : name;
    }

    /**
     * Checks a requested name and strips Docker's optional leading slash.
     *
     * @throws DomainException 400 with Docker's wording
     */
    public static String validate(String name) {
        if (!VALID.matcher(name).matches()) {
            throw DomainException.badRequest("Invalid container name (" + name
                    + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
        return name.startsWith("/") ? name.substring(1) : name;
    }
}
