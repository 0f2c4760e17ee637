package dev.berth.node.cgroup;

import java.nio.file.Path;
import java.util.Set;

/**
 * One mounted cgroup hierarchy as this process sees it.
 *
 * @param mountPoint  where the hierarchy is mounted, e.g. {@code /sys/fs/cgroup/memory} or {@code /sys/fs/cgroup}
 * @param unified     true for the cgroup2 hierarchy
 * @param controllers the controllers it carries: for v1 those named in the mount options (named hierarchies such as
 *                    {@code name=systemd} carry none), for cgroup2 those in the root's {@code cgroup.controllers}
 * @param ownPath     this process's cgroup in the hierarchy, relative to the mount point ("" when at its root)
 */
public record Hierarchy(Path mountPoint, boolean unified, Set<String> controllers, String ownPath) {

    public Hierarchy {
        controllers = Set.copyOf(controllers);
        ownPath = ownPath == null ? "" : stripSlashes(ownPath);
    }

    /** The directory of this process's own cgroup. */
    public Path ownDir() {
        return ownPath.isEmpty() ? mountPoint : mountPoint.resolve(ownPath);
    }

    public boolean carries(String controller) {
        return controllers.contains(controller);
    }

    @Override
    public String toString() {
        return (unified ? "cgroup2 " : "cgroup ") + mountPoint + " " + controllers;
    }

    private static String stripSlashes(String p) {
        int b = 0;
        int e = p.length();
        while (b < e && p.charAt(b) == '/') {
            b++;
        }
        while (e > b && p.charAt(e - 1) == '/') {
            e--;
        }
        return p.substring(b, e);
    }
}
