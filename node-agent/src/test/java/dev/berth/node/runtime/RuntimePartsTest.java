package dev.berth.node.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parsing parts without a container: signals, capability masks, users, the shim config format. */
class RuntimePartsTest {

    @Test
    void signalsByNameNumberAndPrefix() throws Exception {
        assertThat(Signals.parse("KILL", 15)).isEqualTo(9);
        assertThat(Signals.parse("sigterm", 9)).isEqualTo(15);
        assertThat(Signals.parse("10", 9)).isEqualTo(10);
        assertThat(Signals.parse("SIGRTMIN+3", 9)).isEqualTo(37);
        assertThat(Signals.parse(null, 15)).isEqualTo(15);
        assertThat(Signals.parse("", 9)).isEqualTo(9);
        assertThatThrownBy(() -> Signals.parse("0", 9)).hasMessage("Invalid signal: 0");
        assertThatThrownBy(() -> Signals.parse("SIGFOO", 9)).hasMessage("Invalid signal: SIGFOO");
    }

    @Test
    void capabilityMasksFollowDockersRules() throws Exception {
        assertThat(Capabilities.compute(List.of(), List.of(), false)).isEqualTo(0xa80425fbL);
        assertThat(Capabilities.compute(List.of("cap_net_admin"), List.of("CHOWN"), false)).isEqualTo(0xa80435faL);
        assertThat(Capabilities.compute(List.of("NET_RAW"), List.of("ALL"), false)).isEqualTo(1L << 13);
        assertThat(Capabilities.compute(List.of("ALL"), List.of(), false)).isEqualTo(Capabilities.all());
        assertThat(Capabilities.compute(List.of(), List.of("ALL"), true)).isEqualTo(Capabilities.all());
        assertThatThrownBy(() -> Capabilities.compute(List.of(), List.of("NOPE"), false))
                .hasMessage("invalid CapDrop: unknown capability: \"NOPE\"");
    }

    @Test
    void usersAndGroupsFromTheImage(@TempDir Path rootfs) throws Exception {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/passwd"), RuntimeFixture.PASSWD);
        Files.writeString(rootfs.resolve("etc/group"), RuntimeFixture.GROUP);
        assertThat(UserResolver.resolve(rootfs, "", List.of()))
                .isEqualTo(new UserResolver.Identity(0, 0, List.of(), "/root"));
        assertThat(UserResolver.resolve(rootfs, "alice", List.of()))
                .isEqualTo(new UserResolver.Identity(1000, 1000, List.of(50, 29), "/home/alice"));
        assertThat(UserResolver.resolve(rootfs, "1000:audio", List.of("7")))
                .isEqualTo(new UserResolver.Identity(1000, 29, List.of(7), "/home/alice"));
        assertThat(UserResolver.resolve(rootfs, "4321:4321", List.of()))
                .isEqualTo(new UserResolver.Identity(4321, 4321, List.of(), "/"));
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, "alice:nogrp", List.of()))
                .hasMessage("unable to find group nogrp: no matching entries in group file");
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, "99999999999", List.of()))
                .hasMessage("user id 99999999999 is out of range");
    }

    @Test
    void anImageWithoutPasswdAcceptsNumbersOnly(@TempDir Path rootfs) throws Exception {
        assertThat(UserResolver.resolve(rootfs, "5", List.of())).isEqualTo(new UserResolver.Identity(5, 0, List.of(), "/"));
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, "root", List.of()))
                .hasMessage("unable to find user root: no matching entries in passwd file");
    }

    @Test
    void shimConfigEscapesSoAnyValueSurvives(@TempDir Path dir) throws Exception {
        ShimConfig k = new ShimConfig().put("arg", "a b\tc\nd\\e").put("mount", "bind", "/x y", "/z", "rbind,ro");
        k.writeTo(dir.resolve("config"));
        assertThat(Files.readString(dir.resolve("config")))
                .isEqualTo("version 1\narg a b\\tc\\nd\\\\e\nmount bind\t/x y\t/z\trbind,ro\n");
        assertThatThrownBy(() -> new ShimConfig().put("arg", "nul\0")).isInstanceOf(IllegalArgumentException.class);
    }
}
