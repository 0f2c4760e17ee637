package dev.berth.node.cgroup;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The Engine API's resource numbers as the cgroup files take them. */
class CgroupValuesTest {

    @Test
    void cpuSharesBecomeCpuWeightAsRuncConvertsThem() {
        assertThat(CgroupValues.cpuWeight(2)).isEqualTo(1);
        assertThat(CgroupValues.cpuWeight(1024)).isEqualTo(39);
        assertThat(CgroupValues.cpuWeight(512)).isEqualTo(20);
        assertThat(CgroupValues.cpuWeight(262_144)).isEqualTo(10_000);
        // Out-of-range shares are clamped as the kernel clamps cpu.shares.
        assertThat(CgroupValues.cpuWeight(1)).isEqualTo(1);
        assertThat(CgroupValues.cpuWeight(1_000_000)).isEqualTo(10_000);
    }

    @Test
    void cpuMaxLine() {
        assertThat(CgroupValues.cpuMax(50_000, 100_000)).isEqualTo("50000 100000");
        assertThat(CgroupValues.cpuMax(-1, 100_000)).isEqualTo("max 100000");
    }

    @Test
    void swapOnV2IsTheSwapAloneWhileDockerGivesMemoryPlusSwap() {
        assertThat(CgroupValues.swapMax(-1, 64)).isEqualTo("max");
        assertThat(CgroupValues.swapMax(256, 64)).isEqualTo("192");
        assertThat(CgroupValues.swapMax(64, 64)).isEqualTo("0");
        assertThat(CgroupValues.defaultMemorySwap(16)).isEqualTo(32);
    }
}
