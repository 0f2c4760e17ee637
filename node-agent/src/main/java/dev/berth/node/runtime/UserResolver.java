package dev.berth.node.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns Docker's {@code --user} and {@code --group-add} into numeric ids from the image's /etc/passwd and /etc/group,
 * as runc's user lookup does: a number needs no entry; a name must exist; supplementary groups are those listing the
 * user by name; HOME comes from the passwd entry ("/" without one).
 */
final class UserResolver {

    record Identity(int uid, int gid, List<Integer> groups, String home) {
    }

    private record Passwd(String name, int uid, int gid, String home) {
    }

    private record Group(String name, int gid, List<String> members) {
    }

    private UserResolver() {
    }

    static Identity resolve(Path rootfs, String user, List<String> groupAdd) throws IOException {
        String spec = user == null ? "" : user.trim();
        String userPart = spec, groupPart = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            userPart = spec.substring(0, colon);
            groupPart = spec.substring(colon + 1);
        }
        if (userPart.isEmpty()) {
            userPart = "0";
        }
        List<Passwd> passwd = readPasswd(rootfs.resolve("etc/passwd"));
        List<Group> groups = readGroups(rootfs.resolve("etc/group"));

        Passwd entry = null;
        int uid;
        if (isNumber(userPart)) {
            uid = parseId(userPart, "user");
            for (Passwd p : passwd) {
                if (p.uid() == uid) {
                    entry = p;
                    break;
                }
            }
        } else {
            for (Passwd p : passwd) {
                if (p.name().equals(userPart)) {
                    entry = p;
                    break;
                }
            }
            if (entry == null) {
                throw RuntimeFailure.badRequest("unable to find user " + userPart + ": no matching entries in passwd file");
            }
            uid = entry.uid();
        }
        int gid = entry != null ? entry.gid() : 0;
        if (groupPart != null && !groupPart.isEmpty()) {
            gid = groupId(groupPart, groups, "group");
        }
        Set<Integer> supplementary = new LinkedHashSet<>();
        if (entry != null && (groupPart == null || groupPart.isEmpty())) {
            for (Group g : groups) {
                if (g.members().contains(entry.name())) {
                    supplementary.add(g.gid());
                }
            }
        }
        for (String g : groupAdd) {
            supplementary.add(groupId(g, groups, "group"));
        }
        return new Identity(uid, gid, List.copyOf(supplementary), entry != null && !entry.home().isEmpty() ? entry.home() : "/");
    }

    private static int groupId(String g, List<Group> groups, String what) throws RuntimeFailure {
        if (isNumber(g)) {
            return parseId(g, what);
        }
        for (Group e : groups) {
            if (e.name().equals(g)) {
                return e.gid();
            }
        }
        throw RuntimeFailure.badRequest("unable to find group " + g + ": no matching entries in group file");
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static int parseId(String s, String what) throws RuntimeFailure {
        try {
            long v = Long.parseLong(s);
            if (v <= 0xfffffffeL) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw RuntimeFailure.badRequest(what + " id " + s + " is out of range");
    }

    private static List<String> lines(Path file) throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    private static List<Passwd> readPasswd(Path file) throws IOException {
        List<Passwd> out = new ArrayList<>();
        for (String line : lines(file)) {
            String[] f = line.split(":", -1);
            if (f.length >= 7 && isNumber(f[2]) && isNumber(f[3])) {
                out.add(new Passwd(f[0], (int) Long.parseLong(f[2]), (int) Long.parseLong(f[3]), f[5]));
            }
        }
        return out;
    }

    private static List<Group> readGroups(Path file) throws IOException {
        List<Group> out = new ArrayList<>();
        for (String line : lines(file)) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && isNumber(f[2])) {
                List<String> members = f[3].isEmpty() ? List.of() : List.of(f[3].split(","));
                out.add(new Group(f[0], (int) Long.parseLong(f[2]), members));
            }
        }
        return out;
    }
}
