package dev.berth.eventstore;

import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@WithTestResource(BerthTestResource.class)
class HealthTest {
    @TestHTTPResource("/q/health/ready")
    URL ready;

    @Test
    void readinessCoversTheDatabaseAndKafka() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(ready.toString())).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body())
                .contains("\"status\": \"UP\"")
                .contains("Reactive PostgreSQL connections health check")
                .contains("Kafka connection health check");
    }
}
