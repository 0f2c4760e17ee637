package dev.berth.gateway.proxy;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which requests the node serves (the issue-4 contract's list). */
class DataPlaneTest {

    private static DataPlane.Target match(String method, String path) {
        return DataPlane.match(HttpMethod.valueOf(method), path);
    }

    @Test
    void theByteStreamsGoToTheNode() {
        for (String[] c : new String[][] {{"GET", "logs"}, {"POST", "attach"}, {"GET", "stats"}, {"GET", "top"},
                {"GET", "changes"}, {"POST", "resize"}, {"GET", "archive"}, {"HEAD", "archive"}, {"PUT", "archive"}}) {
            DataPlane.Target t = match(c[0], "/containers/web/" + c[1]);
            assertThat(t).as(c[0] + " " + c[1]).isEqualTo(new DataPlane.Target(DataPlane.Kind.CONTAINER, "web", c[1]));
            assertThat(t.nodePath("f00d")).isEqualTo("/containers/f00d/" + c[1]);
        }
        for (String[] c : new String[][] {{"POST", "start"}, {"POST", "resize"}, {"GET", "json"}}) {
            DataPlane.Target t = match(c[0], "/exec/e1/" + c[1]);
            assertThat(t).as(c[0] + " exec " + c[1]).isEqualTo(new DataPlane.Target(DataPlane.Kind.EXEC, "e1", c[1]));
            assertThat(t.nodePath("ignored")).isEqualTo("/exec/e1/" + c[1]);
        }
    }

    @Test
    void lifecycleAndStateStayWithContainerService() {
        for (String[] c : new String[][] {{"POST", "/containers/create"}, {"GET", "/containers/web/json"},
                {"POST", "/containers/web/start"}, {"POST", "/containers/web/stop"}, {"POST", "/containers/web/kill"},
                {"POST", "/containers/web/restart"}, {"POST", "/containers/web/pause"}, {"POST", "/containers/web/wait"},
                {"POST", "/containers/web/rename"}, {"POST", "/containers/web/update"}, {"DELETE", "/containers/web"},
                {"POST", "/containers/prune"}, {"POST", "/containers/web/exec"}, {"GET", "/containers/json"},
                {"POST", "/containers/web/logs"}, {"DELETE", "/containers/web/archive"}, {"GET", "/exec/e1/start"},
                {"POST", "/containers/web/export"}}) {
            assertThat(match(c[0], c[1])).as(c[0] + " " + c[1]).isNull();
        }
        assertThat(DataPlane.match(HttpMethod.GET, "/containers/web/export"))
                .isEqualTo(new DataPlane.Target(DataPlane.Kind.CONTAINER, "web", "export"));
    }
}
