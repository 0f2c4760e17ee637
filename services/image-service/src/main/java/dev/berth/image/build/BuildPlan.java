package dev.berth.image.build;

import dev.berth.image.build.DockerfileParser.Dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A Dockerfile cut into its global ARGs and build stages, up to the target stage. Pure: checks what Docker checks
 * before it starts a build.
 *
 * @param escape the escape character of the Dockerfile
 * @param args   the ARG instructions before the first FROM
 * @param stages the stages to build, the target (or the last) one last
 * @param steps  the number of steps the build prints ({@code Step N/steps}), without the {@code labels} step
 */
public record BuildPlan(char escape, List<Instruction> args, List<Stage> stages, int steps) {

    private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9-_.]*");

    /**
     * One build stage.
     *
     * @param index    its position among all stages (COPY {@code --from=0})
     * @param from     its FROM instruction
     * @param name     its {@code AS} name in lower case, or null
     * @param commands the instructions after FROM
     */
    public record Stage(int index, Instruction from, String name, List<Instruction> commands) {
    }

    /**
     * Plans a build.
     *
     * @param target the stage to stop after (case-insensitive), or null/empty for the last
     * @throws BuildException 400 for an instruction before the first FROM other than ARG, a FROM without an image,
     *                        a bad stage name, a duplicate stage name, or a target no stage has
     */
    public static BuildPlan of(Dockerfile dockerfile, String target) {
        List<Instruction> args = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Instruction from = null;
        String name = null;
        List<Instruction> commands = new ArrayList<>();
        for (Instruction i : dockerfile.instructions()) {
            if (i.keyword().equals("from")) {
                if (from != null) {
                    stages.add(new Stage(stages.size(), from, name, List.copyOf(commands)));
                }
                from = i;
                name = stageName(i, stages);
                commands = new ArrayList<>();
            } else if (from == null) {
                if (!i.keyword().equals("arg")) {
                    throw BuildException.parse(i.line(), "no build stage in current context");
                }
                args.add(i);
            } else {
                commands.add(i);
            }
        }
        if (from == null) {
            throw new BuildException("No build stage in current context: the Dockerfile has no FROM");
        }
        stages.add(new Stage(stages.size(), from, name, List.copyOf(commands)));
        if (target != null && !target.isEmpty()) {
            String t = target.toLowerCase(Locale.ROOT);
            int found = -1;
            for (Stage s : stages) {
                if (t.equals(s.name())) {
                    found = s.index();
                }
            }
            if (found < 0) {
                throw new BuildException("failed to reach build target " + target + " in Dockerfile");
            }
            stages = new ArrayList<>(stages.subList(0, found + 1));
        }
        int steps = args.size();
        for (Stage s : stages) {
            steps += 1 + s.commands().size();
        }
        return new BuildPlan(dockerfile.escape(), List.copyOf(args), List.copyOf(stages), steps);
    }

    private static String stageName(Instruction from, List<Stage> earlier) {
        List<String> words = List.of(from.args().strip().split("\\s+"));
        if (from.args().isBlank() || !(words.size() == 1 || words.size() == 3 && words.get(1).equalsIgnoreCase("as"))) {
            throw BuildException.parse(from.line(), "FROM requires either one or three arguments");
        }
        if (words.size() == 1) {
            return null;
        }
        String name = words.get(2).toLowerCase(Locale.ROOT);
        if (!STAGE_NAME.matcher(name).matches()) {
            throw BuildException.parse(from.line(), "invalid name for build stage: \"" + words.get(2)
                    + "\", name can't start with a number or contain symbols");
        }
        for (Stage s : earlier) {
            if (name.equals(s.name())) {
                throw BuildException.parse(from.line(), "duplicate name " + words.get(2));
            }
        }
        return name;
    }
}
