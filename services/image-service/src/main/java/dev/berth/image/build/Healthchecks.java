package dev.berth.image.build;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** HEALTHCHECK as Docker stores it in an image config ({@code Test}, durations in nanoseconds, {@code Retries}). */
final class Healthchecks {

    private static final Pattern PART = Pattern.compile("([0-9]*\\.?[0-9]+)(ns|us|µs|ms|s|m|h)");

    private Healthchecks() {
    }

    /**
     * Reads {@code HEALTHCHECK NONE} or {@code HEALTHCHECK [--interval=..] CMD command}.
     *
     * @throws BuildException for another form, a bad duration or a bad retry count
     */
    static ObjectNode parse(Instruction i) {
        ObjectNode check = JsonNodeFactory.instance.objectNode();
        String args = i.args().strip();
        String first = args.split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
        if (first.equals("NONE")) {
            if (!args.equalsIgnoreCase("NONE") || !i.flags().isEmpty()) {
                throw BuildException.parse(i.line(), "HEALTHCHECK NONE takes no arguments");
            }
            check.putArray("Test").add("NONE");
            return check;
        }
        if (!first.equals("CMD")) {
            throw BuildException.parse(i.line(), "Unknown type \"" + first + "\" in HEALTHCHECK (try CMD)");
        }
        String command = args.substring(3).strip();
        if (command.isEmpty()) {
            throw BuildException.parse(i.line(), "Missing command after HEALTHCHECK CMD");
        }
        List<String> json = DockerfileParser.json(command);
        var test = check.putArray("Test");
        if (json != null) {
            test.add("CMD");
            json.forEach(test::add);
        } else {
            test.add("CMD-SHELL").add(command);
        }
        duration(i, check, "interval", "Interval");
        duration(i, check, "timeout", "Timeout");
        duration(i, check, "start-period", "StartPeriod");
        duration(i, check, "start-interval", "StartInterval");
        String retries = i.flag("retries");
        if (retries != null) {
            try {
                int n = Integer.parseInt(retries);
                if (n < 0) {
                    throw new NumberFormatException();
                }
                check.put("Retries", n);
            } catch (NumberFormatException e) {
                throw BuildException.parse(i.line(), "--retries must be at least 0");
            }
        }
        return check;
    }

    private static void duration(Instruction i, ObjectNode check, String flag, String field) {
        String value = i.flag(flag);
        if (value == null) {
            return;
        }
        long nanos = nanos(value);
        if (nanos < 0) {
            throw BuildException.parse(i.line(), "--" + flag + " cannot be negative");
        }
        if (nanos > 0 && nanos < 1_000_000) {
            throw BuildException.parse(i.line(), "Interval \"" + flag + "\" cannot be less than 1ms");
        }
        check.put(field, nanos);
    }

    /** Go's {@code time.ParseDuration}. */
    static long nanos(String value) {
        if (value.equals("0")) {
            return 0;
        }
        Matcher m = PART.matcher(value);
        int at = 0;
        double total = 0;
        while (m.find() && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            total += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1_000;
                case "ms" -> 1_000_000;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            at = m.end();
        }
        if (at != value.length() || at == 0) {
            throw new BuildException("time: invalid duration \"" + value + "\"");
        }
        return (long) total;
    }
}
