package dev.berth.gateway.events;

/**
 * Where an event stream writes: the client connection. Called from the stream's own thread, never the connection's
 * event loop, so implementations hand the work to the event loop.
 */
public interface EventSink {
    /** One event line (JSON and a newline), written and flushed in call order. */
    void event(byte[] line);

    /** The stream is complete ({@code until} reached): the response ends normally. */
    void end();

    /** The stream cannot go on (Kafka does not answer): the connection must close, as the head is already out. */
    void abort();

    /** Whether the client takes more now; while not, the stream stops reading Kafka. */
    boolean writable();

    /** Whether the client is still connected; once not, the stream ends and releases its consumer. */
    boolean open();
}
