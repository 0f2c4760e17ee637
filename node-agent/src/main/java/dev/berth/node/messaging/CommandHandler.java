package dev.berth.node.messaging;

import dev.berth.events.node.NodeCommand;

import java.util.concurrent.CompletableFuture;

/**
 * Carries out node commands. Commands for one container run one after the other in the order submitted; commands for
 * different containers may run at the same time.
 */
public interface CommandHandler {

    /**
     * Starts handling a command. The future completes once the command's answer (its observations, or a
     * CommandFailed) is durable in the outbox; it completes exceptionally only if the agent is shutting down before
     * that, in which case the command must be delivered again.
     *
     * @param type the command's CloudEvents type (named in a CommandFailed answer)
     */
    CompletableFuture<Void> submit(NodeCommand command, String type, ObservationPublisher.Cause cause);
}
