package dev.berth.image.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageConfigs;
import dev.berth.image.domain.ImageEvent.ImageBuilt;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.domain.Reference;
import dev.berth.image.gc.Leases;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;
import dev.berth.image.store.BlobStore.Staged;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs a planned Dockerfile build as Docker's legacy builder does: one step per instruction, each step an image
 * whose id is the digest of its config; config-only steps add an {@code empty_layer} history entry, COPY, ADD and
 * WORKDIR a layer written here, RUN a layer that is the filesystem diff of a container on a node. A step whose parent,
 * cache key and tenant match an earlier result is reused ({@code Using cache}) unless the build says {@code nocache}.
 * Only the final image enters the tenant's store (tagged as asked); a failed build tags nothing.
 */
@ApplicationScoped
public class Builder {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");
    private static final Pattern GLOB = Pattern.compile("[*?\\[]");

    private final ImageService images;
    private final BlobStore blobs;
    private final BuildCache cache;
    private final BuildContainers containers;
    private final Leases leases;
    private final Path workDir;

    public Builder(ImageService images, BlobStore blobs, BuildCache cache, BuildContainers containers, Leases leases,
                   @ConfigProperty(name = "berth.images.root", defaultValue = "/var/lib/berth/images") Path root) {
        this.images = images;
        this.blobs = blobs;
        this.cache = cache;
        this.containers = containers;
        this.leases = leases;
        this.workDir = root.resolve("tmp");
    }

    /** Where build contexts and layers being written live (same filesystem as the blobs). */
    public Path workDir() {
        return workDir;
    }

    /**
     * What a client asked for.
     *
     * @param tags      where to tag the result (may be empty)
     * @param buildArgs {@code buildargs}; a null value means declared without a value
     * @param labels    {@code labels}, added by a final LABEL step
     * @param remove    {@code rm}: remove RUN containers after a successful step (failed ones always go)
     */
    public record Request(String tenant, List<Reference> tags, Map<String, String> buildArgs,
                          Map<String, String> labels, boolean noCache, boolean remove) {
    }

    /** Where the build's messages go, in order. */
    public interface Output {
        /** A {@code stream} message (text the CLI prints as it is). */
        void stream(String text);

        /** An {@code aux} message with an image id (one per stage and the final image). */
        void aux(String imageId);
    }

    /**
     * Builds.
     *
     * @return the final image id
     * @throws BuildException (in-stream for the client) for a step that fails; the tenant's tags are unchanged then
     */
    public String build(Request request, BuildPlan plan, BuildContext context, Output out) {
        // every blob the build uses (base layers, cached and new layers, the final config and manifest) is leased
        // until the final image is in the store, and the context directory is held against the tmp sweep
        Path contextDir = context.root().getParent();
        blobs.hold(contextDir);
        try (Leases.Lease lease = leases.open("build")) {
            return new Run(request, plan, context, out, lease).execute();
        } finally {
            blobs.release(contextDir);
        }
    }

    /** The image a stage has built so far. */
    private static final class State {
        String id = "";
        /** The exact config bytes whose digest is {@code id} (null for a scratch stage with no step yet). */
        byte[] bytes;
        ObjectNode image;
        List<Layer> layers = new ArrayList<>();
        final Map<String, String> args = new LinkedHashMap<>();
        List<String> shell = DEFAULT_SHELL;
        boolean cmdSet;
        ImageFiles files;

        ObjectNode config() {
            JsonNode c = image.get("config");
            if (c instanceof ObjectNode o) {
                return o;
            }
            ObjectNode created = ImageConfigs.emptyContainerConfig();
            image.set("config", created);
            return created;
        }
    }

    private final class Run {
        private final Request request;
        private final BuildPlan plan;
        private final BuildContext context;
        private final Output out;
        private final Leases.Lease lease;
        private final char escape;
        private final Map<String, String> metaArgs = new LinkedHashMap<>();
        private final Set<String> consumed = new LinkedHashSet<>();
        private final Map<String, State> byName = new LinkedHashMap<>();
        private final List<State> byIndex = new ArrayList<>();
        private int step;

        Run(Request request, BuildPlan plan, BuildContext context, Output out, Leases.Lease lease) {
            this.request = request;
            this.plan = plan;
            this.context = context;
            this.out = out;
            this.lease = lease;
            this.escape = plan.escape();
        }

        String execute() {
            int total = plan.steps() + (request.labels().isEmpty() ? 0 : 1);
            for (Instruction arg : plan.args()) {
                header(arg, total);
                for (Map.Entry<String, String> kv : argPairs(arg, metaArgs::get).entrySet()) {
                    String name = kv.getKey();
                    String value = kv.getValue();
                    if (request.buildArgs().containsKey(name)) {
                        consumed.add(name);
                        value = request.buildArgs().get(name);
                    }
                    metaArgs.put(name, value);
                }
            }
            State last = null;
            for (BuildPlan.Stage stage : plan.stages()) {
                if (last != null && !last.id.isEmpty()) {
                    out.aux(last.id);
                }
                last = stage(stage, total);
            }
            if (!request.labels().isEmpty()) {
                step++;
                StringBuilder text = new StringBuilder("LABEL");
                new TreeMap<>(request.labels()).forEach((k, v) -> text.append(' ').append(quote(k)).append('=')
                        .append(quote(v)));
                Instruction label = DockerfileParser.parse(text.toString()).instructions().get(0);
                out.stream("Step " + step + "/" + total + " : " + label.original());
                out.stream("\n");
                dispatch(last, label);
            }
            if (last.id.isEmpty()) {
                throw new BuildException("No image was generated. Is your Dockerfile empty?");
            }
            Set<String> unused = new TreeSet<>(request.buildArgs().keySet());
            unused.removeAll(consumed);
            if (!unused.isEmpty()) {
                out.stream("[Warning] One or more build-args [" + String.join(" ", unused) + "] were not consumed\n");
            }
            addImage(last, request.tags());
            out.aux(last.id);
            out.stream("Successfully built " + shortId(last.id) + "\n");
            for (Reference t : request.tags()) {
                out.stream("Successfully tagged " + t.familiar() + "\n");
            }
            return last.id;
        }

        private void header(Instruction i, int total) {
            step++;
            out.stream("Step " + step + "/" + total + " : " + i.original());
            out.stream("\n");
        }

        private State stage(BuildPlan.Stage stage, int total) {
            header(stage.from(), total);
            String base = ShellWords.word(stage.from().args().strip().split("\\s+")[0], name -> {
                if (metaArgs.containsKey(name)) {
                    return metaArgs.get(name);
                }
                return null;
            }, escape);
            if (base.isEmpty()) {
                throw BuildException.parse(stage.from().line(), "base name (" + stage.from().args().strip()
                        .split("\\s+")[0] + ") should not be blank");
            }
            State s = new State();
            State earlier = byName.get(base.toLowerCase(Locale.ROOT));
            if (earlier != null) {
                s.id = earlier.id;
                s.bytes = earlier.bytes;
                s.image = earlier.image.deepCopy();
                s.layers = new ArrayList<>(earlier.layers);
                s.shell = earlier.shell;
            } else if (base.equalsIgnoreCase("scratch")) {
                s.image = scratch();
            } else {
                ImageView v = baseImage(base);
                s.id = v.id;
                s.bytes = blobs.read(v.id);
                s.image = (ObjectNode) ImageConfigs.read(s.bytes);
                s.layers = new ArrayList<>(ImageRows.layers(v.layersJson));
                JsonNode shell = s.config().get("Shell");
                if (shell != null && shell.isArray() && shell.size() > 0) {
                    List<String> sh = new ArrayList<>();
                    shell.forEach(n -> sh.add(n.asText()));
                    s.shell = List.copyOf(sh);
                }
            }
            if (!s.id.isEmpty()) {
                out.stream(" ---> " + shortId(s.id) + "\n");
            }
            List<Instruction> triggers = triggers(s);
            if (!triggers.isEmpty()) {
                out.stream("# Executing " + triggers.size() + " build trigger" + (triggers.size() == 1 ? "" : "s")
                        + "\n");
                for (Instruction t : triggers) {
                    dispatch(s, t);
                }
            }
            for (Instruction i : stage.commands()) {
                header(i, total);
                dispatch(s, i);
            }
            if (stage.name() != null) {
                byName.put(stage.name(), s);
            }
            byName.put(String.valueOf(stage.index()), s);
            byIndex.add(s);
            return s;
        }

        /** A base image's ONBUILD triggers, run right after its FROM; the new image does not inherit them. */
        private List<Instruction> triggers(State s) {
            JsonNode onBuild = s.config().get("OnBuild");
            List<Instruction> out = new ArrayList<>();
            if (onBuild != null && onBuild.isArray()) {
                for (JsonNode t : onBuild) {
                    out.add(DockerfileParser.parse(t.asText()).instructions().get(0));
                }
                s.config().putNull("OnBuild");
            }
            return out;
        }

        private ImageView baseImage(String name) {
            List<ImageView> rows = ImageOperations.await(() -> images.list(request.tenant()));
            ImageView v;
            try {
                v = ImageService.resolve(rows, name).image();
            } catch (DomainException e) {
                String repository;
                try {
                    repository = Reference.parse(name).repository();
                } catch (DomainException bad) {
                    throw new BuildException(400, bad.getMessage(), null);
                }
                throw new BuildException(404, "pull access denied for " + repository + ", repository does not exist"
                        + " or may require 'docker login': the image is not in this tenant's store", null);
            }
            List<String> digests = ImageService.digests(v);
            lease.hold(digests);
            if (!digests.stream().allMatch(blobs::exists)) {
                throw new BuildException(404, "image " + name + " was removed while the build started", null);
            }
            return v;
        }

        private ObjectNode scratch() {
            ObjectNode image = JSON.createObjectNode();
            image.put("architecture", ImageOperations.architecture());
            image.set("config", ImageConfigs.emptyContainerConfig());
            image.put("created", Instant.now().toString());
            image.putArray("history");
            image.put("os", "linux");
            ObjectNode rootfs = image.putObject("rootfs");
            rootfs.put("type", "layers");
            rootfs.putArray("diff_ids");
            return image;
        }

        private Function<String, String> lookup(State s) {
            return name -> {
                String env = env(s.config(), name);
                return env != null ? env : s.args.get(name);
            };
        }

        private void dispatch(State s, Instruction i) {
            Function<String, String> vars = lookup(s);
            switch (i.keyword()) {
                case "env" -> {
                    Map<String, String> pairs = pairs(i, vars);
                    configStep(s, "ENV " + join(pairs), c -> {
                        for (var kv : pairs.entrySet()) {
                            setEnv(c, kv.getKey(), kv.getValue());
                        }
                    });
                }
                case "label" -> {
                    Map<String, String> pairs = pairs(i, vars);
                    configStep(s, "LABEL " + join(pairs), c -> {
                        ObjectNode labels = c.get("Labels") instanceof ObjectNode o ? o : c.putObject("Labels");
                        pairs.forEach(labels::put);
                    });
                }
                case "arg" -> {
                    Map<String, String> declared = argPairs(i, vars);
                    StringBuilder text = new StringBuilder("ARG");
                    for (var kv : declared.entrySet()) {
                        String name = kv.getKey();
                        String value = kv.getValue();
                        if (request.buildArgs().containsKey(name)) {
                            consumed.add(name);
                            value = request.buildArgs().get(name);
                        } else if (value == null && metaArgs.containsKey(name)) {
                            value = metaArgs.get(name);
                        }
                        s.args.put(name, value);
                        text.append(' ').append(name).append(kv.getValue() == null ? "" : "=" + kv.getValue());
                    }
                    configStep(s, text.toString(), c -> {
                        // the value reaches RUN steps as their environment, never the image
                    });
                }
                case "expose" -> {
                    List<String> ports = new ArrayList<>();
                    for (String p : ShellWords.words(i.args(), vars, escape)) {
                        ports.addAll(ports(p));
                    }
                    if (ports.isEmpty()) {
                        throw BuildException.parse(i.line(), "EXPOSE requires at least one argument");
                    }
                    configStep(s, "EXPOSE " + String.join(" ", ports), c -> {
                        ObjectNode exposed = c.get("ExposedPorts") instanceof ObjectNode o ? o
                                : c.putObject("ExposedPorts");
                        ports.forEach(p -> exposed.putObject(p));
                    });
                }
                case "volume" -> {
                    List<String> volumes = i.isJson() ? expandAll(i.json(), vars) : ShellWords.words(i.args(), vars, escape);
                    if (volumes.isEmpty() || volumes.stream().anyMatch(String::isBlank)) {
                        throw new BuildException("VOLUME specified can not be an empty string");
                    }
                    configStep(s, "VOLUME " + volumes, c -> {
                        ObjectNode v = c.get("Volumes") instanceof ObjectNode o ? o : c.putObject("Volumes");
                        volumes.forEach(p -> v.putObject(p));
                    });
                }
                case "user" -> {
                    String user = ShellWords.word(i.args(), vars, escape);
                    requireArgument(i, user);
                    configStep(s, "USER " + user, c -> c.put("User", user));
                }
                case "stopsignal" -> {
                    String signal = ShellWords.word(i.args(), vars, escape);
                    requireArgument(i, signal);
                    configStep(s, "STOPSIGNAL " + signal, c -> c.put("StopSignal", signal));
                }
                case "maintainer" -> {
                    requireArgument(i, i.args());
                    configStep(s, "MAINTAINER " + i.args(), (image, c) -> image.put("author", i.args()));
                }
                case "cmd" -> {
                    List<String> cmd = command(s, i);
                    s.cmdSet = true;
                    configStep(s, "CMD " + JSON.valueToTree(cmd), c -> c.set("Cmd", JSON.valueToTree(cmd)));
                }
                case "entrypoint" -> {
                    List<String> entrypoint = command(s, i);
                    configStep(s, "ENTRYPOINT " + JSON.valueToTree(entrypoint), c -> {
                        c.set("Entrypoint", JSON.valueToTree(entrypoint));
                        if (!s.cmdSet) {
                            // Docker: an ENTRYPOINT drops the CMD the base image had
                            c.putNull("Cmd");
                        }
                    });
                }
                case "shell" -> {
                    if (!i.isJson() || i.json().isEmpty()) {
                        throw BuildException.parse(i.line(), "SHELL requires the arguments to be in JSON form");
                    }
                    List<String> shell = i.json();
                    configStep(s, "SHELL " + JSON.valueToTree(shell), c -> c.set("Shell", JSON.valueToTree(shell)));
                    s.shell = shell;
                }
                case "onbuild" -> {
                    String trigger = i.args();
                    requireArgument(i, trigger);
                    String keyword = trigger.split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
                    if (keyword.equals("onbuild")) {
                        throw BuildException.parse(i.line(), "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                    }
                    if (keyword.equals("from") || keyword.equals("maintainer")) {
                        throw BuildException.parse(i.line(), keyword.toUpperCase(Locale.ROOT)
                                + " isn't allowed as an ONBUILD trigger");
                    }
                    Instruction parsed = DockerfileParser.parse(trigger).instructions().get(0);
                    String stored = parsed.keyword().toUpperCase(Locale.ROOT) + trigger.substring(
                            trigger.split("\\s+", 2)[0].length());
                    configStep(s, "ONBUILD " + stored, c -> {
                        ArrayNode list = c.get("OnBuild") instanceof ArrayNode a ? a : c.putArray("OnBuild");
                        list.add(stored);
                    });
                }
                case "healthcheck" -> {
                    ObjectNode check = Healthchecks.parse(i);
                    configStep(s, "HEALTHCHECK " + check, c -> c.set("Healthcheck", check));
                }
                case "workdir" -> workdir(s, i, vars);
                case "copy" -> copy(s, i, vars, false);
                case "add" -> copy(s, i, vars, true);
                case "run" -> run(s, i);
                case "from" -> throw new IllegalStateException("FROM inside a stage");
                default -> throw BuildException.parse(i.line(), "unknown instruction: "
                        + i.keyword().toUpperCase(Locale.ROOT));
            }
        }

        private List<String> command(State s, Instruction i) {
            if (i.isJson()) {
                return i.json();
            }
            requireArgument(i, i.args());
            List<String> cmd = new ArrayList<>(s.shell);
            cmd.add(i.args());
            return cmd;
        }

        private void requireArgument(Instruction i, String value) {
            if (value == null || value.isBlank()) {
                throw BuildException.parse(i.line(), i.keyword().toUpperCase(Locale.ROOT)
                        + " requires exactly one argument");
            }
        }

        /** A step that changes only the config: cached by its text, history {@code empty_layer}. */
        private void configStep(State s, String text, java.util.function.Consumer<ObjectNode> change) {
            configStep(s, text, (image, config) -> change.accept(config));
        }

        /** A step that changes only the config: cached by its text, history {@code empty_layer}. */
        private void configStep(State s, String text, java.util.function.BiConsumer<ObjectNode, ObjectNode> change) {
            if (reuse(s, text)) {
                return;
            }
            ObjectNode next = s.image.deepCopy();
            ObjectNode config = next.get("config") instanceof ObjectNode o ? o : next.putObject("config");
            change.accept(next, config);
            commit(s, next, "/bin/sh -c #(nop)  " + text, null, text);
        }

        private boolean reuse(State s, String key) {
            if (request.noCache()) {
                return false;
            }
            BuildCache.Hit hit = ImageOperations.await(() -> cache.find(request.tenant(), s.id, key));
            if (hit == null) {
                return false;
            }
            List<String> layerDigests = hit.layers().stream().map(Layer::digest).toList();
            lease.hold(layerDigests);
            if (!layerDigests.stream().allMatch(blobs::exists)) {
                // pruned between the lookup and the lease: build the step again
                return false;
            }
            s.id = hit.imageId();
            s.bytes = hit.config();
            s.image = (ObjectNode) ImageConfigs.read(hit.config());
            s.layers = new ArrayList<>(hit.layers());
            s.files = null;
            out.stream(" ---> Using cache\n");
            out.stream(" ---> " + shortId(s.id) + "\n");
            return true;
        }

        private void commit(State s, ObjectNode next, String createdBy, Staged layer, String key) {
            String now = Instant.now().toString();
            next.put("created", now);
            next.remove("container");
            next.remove("id");
            next.remove("parent");
            ObjectNode config = next.get("config") instanceof ObjectNode o ? o : next.putObject("config");
            config.put("Image", s.id);
            ArrayNode history = next.get("history") instanceof ArrayNode a ? a : next.putArray("history");
            ObjectNode h = history.addObject();
            h.put("created", now);
            h.put("created_by", createdBy);
            if (layer == null) {
                h.put("empty_layer", true);
            }
            List<Layer> layers = new ArrayList<>(s.layers);
            if (layer != null) {
                ObjectNode rootfs = next.get("rootfs") instanceof ObjectNode o ? o : next.putObject("rootfs");
                rootfs.put("type", "layers");
                ArrayNode diffIds = rootfs.get("diff_ids") instanceof ArrayNode a ? a : rootfs.putArray("diff_ids");
                diffIds.add(layer.digest());
                layers.add(new Layer(layer.digest(), layer.digest(), layer.size(), ImageOperations.LAYER_TAR,
                        layer.contentSize()));
            }
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(next);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            String id = BlobStore.digest(bytes);
            String parent = s.id;
            if (layer != null) {
                lease.hold(layer.digest());
            }
            ImageOperations.await(() -> cache.put(request.tenant(), parent, key, id, bytes, layers));
            if (layer != null) {
                blobs.commit(layer);
            }
            s.id = id;
            s.bytes = bytes;
            s.image = next;
            s.layers = layers;
            if (layer != null && s.files != null) {
                s.files.apply(blobs, layer.digest());
            }
            out.stream(" ---> " + shortId(id) + "\n");
        }

        private ImageFiles files(State s) {
            if (s.files == null) {
                s.files = ImageFiles.of(blobs, s.layers.stream().map(Layer::digest).toList());
            }
            return s.files;
        }

        private void workdir(State s, Instruction i, Function<String, String> vars) {
            String given = ShellWords.word(i.args(), vars, escape);
            requireArgument(i, given);
            String current = s.config().path("WorkingDir").asText("");
            String dir = given.startsWith("/") ? given : (current.isEmpty() ? "/" : current) + "/" + given;
            String clean = "/" + (DockerIgnore.clean(dir).equals(".") ? "" : DockerIgnore.clean(dir));
            String key = "WORKDIR " + clean;
            if (reuse(s, key)) {
                return;
            }
            ImageFiles below = files(s);
            Staged layer;
            try (LayerWriter w = new LayerWriter(workDir, below, 0, 0)) {
                String rel = DockerIgnore.clean(clean);
                if (!rel.equals(".") && !below.isDirectory(rel)) {
                    w.directory(rel, null);
                }
                layer = w.stage(blobs);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ObjectNode next = s.image.deepCopy();
            ((ObjectNode) next.get("config")).put("WorkingDir", clean);
            commit(s, next, "/bin/sh -c #(nop) WORKDIR " + clean, layer, key);
        }

        private void run(State s, Instruction i) {
            for (String flag : i.flags().keySet()) {
                // Docker's legacy builder refuses these too: they exist only in BuildKit
                throw new BuildException("the --" + flag + " option requires BuildKit, which Berth does not provide");
            }
            List<String> cmd = command(s, i);
            List<String> env = new ArrayList<>();
            JsonNode imageEnv = s.config().get("Env");
            if (imageEnv != null && imageEnv.isArray()) {
                imageEnv.forEach(e -> env.add(e.asText()));
            }
            List<String> argEnv = new ArrayList<>();
            s.args.forEach((k, v) -> {
                if (v != null && env(s.config(), k) == null) {
                    argEnv.add(k + "=" + v);
                }
            });
            env.addAll(argEnv);
            String prefix = argEnv.isEmpty() ? "" : "|" + argEnv.size() + " " + String.join(" ", argEnv) + " ";
            String createdBy = prefix + String.join(" ", cmd);
            String key = "RUN " + prefix + JSON.valueToTree(cmd);
            if (reuse(s, key)) {
                return;
            }
            boolean added = ensureImage(s);
            String container = null;
            Staged layer = null;
            boolean ok = false;
            try {
                container = containers.create(request.tenant(), s.id, new BuildContainers.Spec(cmd, env,
                        s.config().path("WorkingDir").asText(""), s.config().path("User").asText("")));
                out.stream(" ---> Running in " + shortId(container) + "\n");
                int code = containers.run(request.tenant(), container, out::stream);
                if (code != 0) {
                    throw new BuildException(200, "The command '" + String.join(" ", cmd)
                            + "' returned a non-zero code: " + code, code);
                }
                layer = containers.diff(request.tenant(), container);
                ok = true;
            } finally {
                if (container != null && (!ok || request.remove())) {
                    containers.remove(request.tenant(), container);
                    if (ok) {
                        out.stream("Removing intermediate container " + shortId(container) + "\n");
                    }
                }
                if (added) {
                    removeImage(s);
                }
                if (!ok) {
                    blobs.discard(layer);
                }
            }
            commit(s, s.image.deepCopy(), createdBy, layer, key);
        }

        /** Puts the state's image in the store untagged (a RUN container needs one); true when it was not there. */
        private boolean ensureImage(State s) {
            if (s.id.isEmpty()) {
                throw new BuildException("RUN needs an image to run in: FROM scratch has no filesystem to run a "
                        + "command");
            }
            List<ImageView> rows = ImageOperations.await(() -> images.list(request.tenant()));
            if (rows.stream().anyMatch(v -> v.id.equals(s.id))) {
                return false;
            }
            addImage(s, List.of());
            return true;
        }

        /** Takes a RUN step's starting image out of the store again; its layers stay, held by the cache. */
        private void removeImage(State s) {
            String id = s.id;
            String manifest = BlobStore.digest(manifest(s.bytes, s.layers));
            ImageOperations.await(() -> images.handle(request.tenant(), new ImageCommand.DeleteImages(List.of(id))));
            ImageOperations.await(() -> images.collect(List.of(id, manifest)));
        }

        private void addImage(State s, List<Reference> tags) {
            byte[] config = s.bytes;
            Staged configBlob = blobs.stageBytes(config);
            Staged manifest = blobs.stageBytes(manifest(config, s.layers));
            try {
                lease.hold(configBlob.digest(), manifest.digest());
                JsonNode parsed = ImageConfigs.read(config);
                long size = s.layers.stream().mapToLong(Layer::unpackedSize).sum();
                ImageBuilt image = new ImageBuilt(s.id, s.id, manifest.digest(), ImageOperations.MANIFEST_V2,
                        List.copyOf(s.layers), ImageConfigs.runtime(parsed), parsed.path("architecture").asText(""),
                        parsed.path("os").asText(""), parsed.path("comment").asText(""),
                        time(parsed.path("created").asText("")), size, List.of());
                blobs.commit(configBlob);
                blobs.commit(manifest);
                try {
                    ImageOperations.await(() -> images.handle(request.tenant(), new ImageCommand.AddImage(image, tags)));
                } catch (RuntimeException e) {
                    ImageOperations.await(() -> images.collect(List.of(s.id, manifest.digest())));
                    throw e;
                }
            } finally {
                blobs.discard(configBlob);
                blobs.discard(manifest);
            }
        }

        // ---- COPY and ADD ----

        /** One thing to write into the layer. */
        private record Item(String target, TarArchiveEntry header, Path file, String imagePath, Path archive) {
        }

        private void copy(State s, Instruction i, Function<String, String> vars, boolean add) {
            String name = add ? "ADD" : "COPY";
            List<String> words = i.isJson() ? expandAll(i.json(), vars) : ShellWords.words(i.args(), vars, escape);
            if (words.size() < 2) {
                throw BuildException.parse(i.line(), name + " requires at least two arguments, but only one was "
                        + "provided. Destination could not be determined.");
            }
            String dest = words.get(words.size() - 1);
            List<String> sources = words.subList(0, words.size() - 1);
            String from = i.flag("from") == null ? null : ShellWords.word(i.flag("from"), vars, escape);
            if (add && from != null) {
                throw BuildException.parse(i.line(), "Unknown flag: from");
            }
            String chown = i.flag("chown") == null ? null : ShellWords.word(i.flag("chown"), vars, escape);
            Integer chmod = null;
            if (i.flag("chmod") != null) {
                try {
                    chmod = Integer.parseInt(i.flag("chmod"), 8);
                } catch (NumberFormatException e) {
                    throw new BuildException("invalid chmod parameter: " + i.flag("chmod"));
                }
            }
            String workdir = s.config().path("WorkingDir").asText("");
            String absolute = dest.startsWith("/") ? dest : (workdir.isEmpty() ? "/" : workdir) + "/" + dest;
            boolean destIsDir = dest.endsWith("/") || dest.equals(".") || dest.endsWith("/.");
            String destRel = DockerIgnore.clean(absolute);

            ImageFiles below = files(s);
            int[] owner = chown == null ? new int[]{0, 0} : owner(below, chown);
            State source = null;
            ImageFiles sourceTree = null;
            String sourceId = null;
            if (from != null) {
                source = byName.get(from.toLowerCase(Locale.ROOT));
                if (source == null) {
                    ImageView v = baseImage(from);
                    sourceId = v.id;
                    sourceTree = ImageFiles.of(blobs, ImageRows.layers(v.layersJson).stream().map(Layer::digest)
                            .toList());
                } else {
                    sourceId = source.id;
                    sourceTree = files(source);
                }
            }
            List<Item> items = new ArrayList<>();
            int matched = 0;
            for (String src : sources) {
                if (!add || !src.matches("(?i)^(https?|git)://.*")) {
                    List<String> found = sourceTree == null ? contextMatches(name, src) : treeMatches(name, src,
                            sourceTree);
                    matched += found.size();
                    for (String rel : found) {
                        items.addAll(sourceTree == null ? contextItems(rel, destRel, destIsDir || sources.size() > 1,
                                add, below) : treeItems(sourceTree, rel, destRel, destIsDir || sources.size() > 1,
                                below));
                    }
                } else {
                    throw new BuildException("ADD from a URL is not supported by Berth yet: " + src);
                }
            }
            if (matched > 1 && !destIsDir) {
                throw new BuildException("When using " + name + " with more than one source file, the destination"
                        + " must be a directory and end with a /");
            }
            String content = from != null ? "image:" + sourceId : digestOf(items);
            StringBuilder keyText = new StringBuilder(name);
            if (chown != null) {
                keyText.append(" --chown=").append(chown);
            }
            if (chmod != null) {
                keyText.append(" --chmod=").append(Integer.toOctalString(chmod));
            }
            if (from != null) {
                keyText.append(" --from=").append(from);
            }
            keyText.append(' ').append(String.join(" ", words)).append(" content:").append(content);
            String key = keyText.toString();
            if (reuse(s, key)) {
                return;
            }
            Staged layer = writeLayer(below, items, sourceTree, owner, chmod);
            String createdBy = "/bin/sh -c #(nop) " + name + " " + (from != null ? "from:" + shortId(sourceId)
                    : content.substring(7, 19)) + " in " + absolute + " ";
            commit(s, s.image.deepCopy(), createdBy, layer, key);
        }

        private List<String> contextMatches(String name, String src) {
            Path root = context.root();
            String relative = src.startsWith("/") ? src.substring(1) : src;
            Path resolved = root.resolve(relative).normalize();
            if (!resolved.startsWith(root)) {
                throw new BuildException("Forbidden path outside the build context: " + src + " ()");
            }
            String clean = DockerIgnore.clean(relative);
            if (GLOB.matcher(clean).find()) {
                Pattern glob = glob(clean);
                List<String> out = new ArrayList<>();
                try (Stream<Path> all = Files.walk(root)) {
                    all.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString())
                            .filter(p -> glob.matcher(p).matches()).sorted().forEach(out::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (out.isEmpty()) {
                    throw new BuildException(name + " failed: no source files were specified");
                }
                return out;
            }
            try {
                Path parent = resolved.equals(root) ? root : resolved.getParent();
                if (Files.exists(parent) && !BuildContext.inside(parent, root)) {
                    throw new BuildException("Forbidden path outside the build context: " + src + " ()");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (!Files.exists(resolved, LinkOption.NOFOLLOW_LINKS)) {
                throw new BuildException(name + " failed: file not found in build context or excluded by "
                        + ".dockerignore: stat " + clean + ": file does not exist");
            }
            return List.of(clean);
        }

        private List<String> treeMatches(String name, String src, ImageFiles tree) {
            String clean = DockerIgnore.clean(src);
            if (GLOB.matcher(clean).find()) {
                Pattern glob = glob(clean);
                List<String> out = tree.paths().stream().filter(p -> glob.matcher(p).matches()).toList();
                if (out.isEmpty()) {
                    throw new BuildException(name + " failed: no source files were specified");
                }
                return out;
            }
            if (!clean.equals(".") && tree.get(clean) == null) {
                throw new BuildException(name + " failed: stat /" + clean + ": file does not exist");
            }
            return List.of(clean);
        }

        private List<Item> contextItems(String rel, String destRel, boolean destIsDir, boolean add,
                                        ImageFiles below) {
            Path root = context.root();
            Path path = rel.equals(".") ? root : root.resolve(rel);
            List<Item> items = new ArrayList<>();
            try {
                if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    items.add(new Item(destRel, header(destRel, path), null, null, null));
                    try (Stream<Path> all = Files.walk(path)) {
                        for (Path p : all.filter(p -> !p.equals(path)).sorted().toList()) {
                            String target = join(destRel, path.relativize(p).toString());
                            items.add(new Item(target, header(target, p), p, null, null));
                        }
                    }
                    return items;
                }
                boolean intoDir = destIsDir || below.isDirectory(destRel);
                if (add && Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) && isArchive(path)) {
                    items.add(new Item(destRel, null, null, null, path));
                    return items;
                }
                String name = path.getFileName().toString();
                String target = intoDir ? join(destRel, name) : destRel;
                items.add(new Item(target, header(target, path), path, null, null));
                return items;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private List<Item> treeItems(ImageFiles tree, String rel, String destRel, boolean destIsDir,
                                     ImageFiles below) {
            List<Item> items = new ArrayList<>();
            if (rel.equals(".") || tree.isDirectory(rel)) {
                for (String p : tree.below(rel)) {
                    if (p.equals(rel)) {
                        continue;
                    }
                    String suffix = rel.equals(".") ? p : p.substring(rel.length() + 1);
                    items.add(new Item(join(destRel, suffix), tree.get(p).header(), null, p, null));
                }
                if (!rel.equals(".")) {
                    items.add(0, new Item(destRel, tree.get(rel).header(), null, rel, null));
                }
                return items;
            }
            boolean intoDir = destIsDir || below.isDirectory(destRel);
            String name = rel.substring(rel.lastIndexOf('/') + 1);
            items.add(new Item(intoDir ? join(destRel, name) : destRel, tree.get(rel).header(), null, rel, null));
            return items;
        }

        private TarArchiveEntry header(String target, Path p) throws IOException {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            TarArchiveEntry e;
            if (a.isSymbolicLink()) {
                e = new TarArchiveEntry(target, TarArchiveEntry.LF_SYMLINK);
                e.setLinkName(Files.readSymbolicLink(p).toString());
                e.setMode(0120777);
            } else if (a.isDirectory()) {
                e = new TarArchiveEntry(target + "/", TarArchiveEntry.LF_DIR);
                e.setMode(040000 | mode(a.permissions()));
            } else {
                e = new TarArchiveEntry(target);
                e.setSize(a.size());
                e.setMode(0100000 | mode(a.permissions()));
            }
            e.setModTime(a.lastModifiedTime().toMillis());
            return e;
        }

        /** The content digest of COPY sources: names, kinds, modes, link targets and bytes; never times. */
        private String digestOf(List<Item> items) {
            MessageDigest sha = sha256();
            byte[] buf = new byte[65536];
            for (Item item : items) {
                sha.update((item.target() + "\0").getBytes(StandardCharsets.UTF_8));
                Path file = item.file() != null ? item.file() : item.archive();
                if (item.header() != null) {
                    sha.update((item.header().getMode() + ":" + item.header().getLinkName() + "\0")
                            .getBytes(StandardCharsets.UTF_8));
                }
                if (file != null && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
                        while (in.read(buf) >= 0) {
                            // digesting
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        }

        private Staged writeLayer(ImageFiles below, List<Item> items, ImageFiles sourceTree, int[] owner,
                                  Integer chmod) {
            try (LayerWriter w = new LayerWriter(workDir, below, owner[0], owner[1])) {
                List<String> treeFiles = new ArrayList<>();
                Map<String, Item> byTreePath = new LinkedHashMap<>();
                for (Item item : items) {
                    if (item.archive() != null) {
                        extractArchive(w, item.archive(), item.target());
                        continue;
                    }
                    TarArchiveEntry h = owned(item.header(), owner, chmod);
                    if (h.isDirectory()) {
                        if (!item.target().equals(".")) {
                            w.directory(item.target(), h);
                        }
                    } else if (h.isSymbolicLink()) {
                        w.entry(item.target(), h, InputStream.nullInputStream());
                    } else if (item.file() != null) {
                        try (InputStream in = Files.newInputStream(item.file())) {
                            w.entry(item.target(), h, in);
                        }
                    } else if (item.imagePath() != null && h.isFile()) {
                        treeFiles.add(item.imagePath());
                        byTreePath.put(item.imagePath(), new Item(item.target(), h, null, item.imagePath(), null));
                    }
                }
                if (!treeFiles.isEmpty()) {
                    sourceTree.read(blobs, treeFiles, (path, in) -> {
                        Item item = byTreePath.get(path);
                        try {
                            w.entry(item.target(), item.header(), in);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                }
                return w.stage(blobs);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private TarArchiveEntry owned(TarArchiveEntry h, int[] owner, Integer chmod) {
            TarArchiveEntry e = h.isSymbolicLink() ? new TarArchiveEntry(h.getName(), TarArchiveEntry.LF_SYMLINK)
                    : h.isDirectory() ? new TarArchiveEntry(h.getName(), TarArchiveEntry.LF_DIR)
                    : new TarArchiveEntry(h.getName());
            e.setLinkName(h.getLinkName());
            e.setSize(h.isFile() ? h.getSize() : 0);
            int mode = h.getMode();
            if (chmod != null && !h.isSymbolicLink()) {
                mode = (mode & ~07777) | chmod;
            }
            e.setMode(mode);
            e.setModTime(h.getModTime());
            e.setUserId(owner[0]);
            e.setGroupId(owner[1]);
            return e;
        }

        /** ADD of a local archive: its entries below the destination, owners and modes as the archive has them. */
        private void extractArchive(LayerWriter w, Path archive, String destRel) throws IOException {
            if (!destRel.equals(".")) {
                w.directory(destRel, null);
            }
            try (InputStream in = archiveStream(archive); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    String rel = DockerIgnore.clean(e.getName());
                    if (rel.equals(".") || rel.startsWith("..")) {
                        continue;
                    }
                    String target = join(destRel, rel);
                    if (e.isDirectory()) {
                        w.directory(target, e);
                    } else if (e.isSymbolicLink() || e.isFile()) {
                        w.entry(target, e, tar);
                    }
                }
            }
        }

        private static InputStream archiveStream(Path archive) throws IOException {
            BufferedInputStream in = new BufferedInputStream(Files.newInputStream(archive));
            try {
                return new BufferedInputStream(new CompressorStreamFactory().createCompressorInputStream(in));
            } catch (Exception notCompressed) {
                return in;
            }
        }

        private static boolean isArchive(Path file) {
            try (InputStream in = archiveStream(file); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                return tar.getNextEntry() != null;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /** {@code --chown=user[:group]}, numeric or names from the image's /etc/passwd and /etc/group. */
        private int[] owner(ImageFiles below, String chown) {
            String[] parts = chown.split(":", 2);
            String user = parts[0];
            String group = parts.length > 1 ? parts[1] : parts[0];
            return new int[]{id(below, "etc/passwd", user, "uid"), id(below, "etc/group", group, "gid")};
        }

        private int id(ImageFiles below, String file, String name, String kind) {
            if (name.matches("[0-9]+")) {
                return Integer.parseInt(name);
            }
            byte[] content = below.small(blobs, file);
            if (content != null) {
                for (String line : new String(content, StandardCharsets.UTF_8).split("\n")) {
                    String[] f = line.split(":");
                    if (f.length > 2 && f[0].equals(name) && f[2].matches("[0-9]+")) {
                        return Integer.parseInt(f[2]);
                    }
                }
            }
            String what = kind.equals("uid") ? "user" : "group";
            throw new BuildException("unable to convert uid/gid chown string to host mapping: can't find " + kind
                    + " for " + what + " " + name + ": no such " + what + ": " + name);
        }

        // ---- words ----

        private Map<String, String> pairs(Instruction i, Function<String, String> vars) {
            String name = i.keyword().toUpperCase(Locale.ROOT);
            if (i.args().isBlank()) {
                throw BuildException.parse(i.line(), name + " requires at least one argument");
            }
            Map<String, String> out = new LinkedHashMap<>();
            List<String> raw = rawWords(i.args());
            if (!raw.get(0).contains("=")) {
                // the legacy form: NAME value with spaces
                String[] kv = i.args().strip().split("\\s+", 2);
                if (kv.length < 2) {
                    throw BuildException.parse(i.line(), name + " must have two arguments");
                }
                out.put(ShellWords.word(kv[0], vars, escape), ShellWords.word(kv[1], vars, escape));
                return out;
            }
            for (String w : raw) {
                int eq = w.indexOf('=');
                if (eq <= 0) {
                    throw BuildException.parse(i.line(), "Syntax error - can't find = in \"" + w
                            + "\". Must be of the form: name=value");
                }
                out.put(ShellWords.word(w.substring(0, eq), vars, escape),
                        ShellWords.word(w.substring(eq + 1), vars, escape));
            }
            return out;
        }

        private Map<String, String> argPairs(Instruction i, Function<String, String> vars) {
            if (i.args().isBlank()) {
                throw BuildException.parse(i.line(), "ARG requires at least one argument");
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (String w : rawWords(i.args())) {
                int eq = w.indexOf('=');
                if (eq == 0) {
                    throw BuildException.parse(i.line(), "ARG names can not be blank");
                }
                if (eq < 0) {
                    out.put(w, null);
                } else {
                    out.put(w.substring(0, eq), ShellWords.word(w.substring(eq + 1), vars, escape));
                }
            }
            return out;
        }

        /** Splits at unquoted whitespace keeping quotes and escapes for {@link ShellWords#word}. */
        private List<String> rawWords(String s) {
            return ImageConfigs.words(s, escape);
        }

        private List<String> expandAll(List<String> words, Function<String, String> vars) {
            List<String> out = new ArrayList<>();
            for (String w : words) {
                out.add(ShellWords.word(w, vars, escape));
            }
            return out;
        }
    }

    // ---- helpers without state ----

    static List<String> ports(String p) {
        String proto = "tcp";
        String port = p;
        int slash = p.indexOf('/');
        if (slash >= 0) {
            proto = p.substring(slash + 1).toLowerCase(Locale.ROOT);
            port = p.substring(0, slash);
        }
        if (!proto.matches("tcp|udp|sctp") || !port.matches("[0-9]{1,5}(-[0-9]{1,5})?")) {
            throw new BuildException("invalid containerPort: " + p);
        }
        List<String> out = new ArrayList<>();
        String[] range = port.split("-");
        int start = Integer.parseInt(range[0]);
        int end = range.length > 1 ? Integer.parseInt(range[1]) : start;
        if (end < start || end > 65535) {
            throw new BuildException("invalid containerPort: " + p);
        }
        for (int n = start; n <= end; n++) {
            out.add(n + "/" + proto);
        }
        return out;
    }

    static String env(ObjectNode config, String name) {
        JsonNode env = config.get("Env");
        String found = null;
        if (env != null && env.isArray()) {
            for (JsonNode e : env) {
                String s = e.asText();
                if (s.startsWith(name + "=")) {
                    found = s.substring(name.length() + 1);
                }
            }
        }
        return found;
    }

    private static void setEnv(ObjectNode config, String name, String value) {
        ArrayNode env = config.get("Env") instanceof ArrayNode a ? a : config.putArray("Env");
        for (int k = 0; k < env.size(); k++) {
            if (env.get(k).asText().startsWith(name + "=")) {
                env.set(k, env.textNode(name + "=" + value));
                return;
            }
        }
        env.add(name + "=" + value);
    }

    private static String join(Map<String, String> pairs) {
        StringBuilder b = new StringBuilder();
        pairs.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(quote(v)));
        return b.toString();
    }

    private static String quote(String v) {
        if (!v.isEmpty() && v.chars().noneMatch(c -> Character.isWhitespace(c) || c == '"' || c == '\'' || c == '\\'
                || c == '$')) {
            return v;
        }
        return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$") + "\"";
    }

    private static String join(String dir, String name) {
        return dir.equals(".") ? DockerIgnore.clean(name) : DockerIgnore.clean(dir + "/" + name);
    }

    private static int mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                case OTHERS_EXECUTE -> 01;
            };
        }
        return mode;
    }

    /** Go's filepath.Match of a whole slash path: {@code *} and {@code ?} stay inside one path element. */
    static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (int k = 0; k < pattern.length(); k++) {
            char ch = pattern.charAt(k);
            switch (ch) {
                case '*' -> re.append("[^/]*");
                case '?' -> re.append("[^/]");
                case '[' -> {
                    int end = pattern.indexOf(']', k + 2);
                    if (end < 0) {
                        throw new BuildException("syntax error in pattern: " + pattern);
                    }
                    String body = pattern.substring(k + 1, end);
                    if (body.startsWith("^") || body.startsWith("!")) {
                        body = "^" + body.substring(1);
                    }
                    re.append('[').append(body.replace("\\", "\\\\").replace("[", "\\[")).append(']');
                    k = end;
                }
                case '\\' -> {
                    if (k + 1 < pattern.length()) {
                        re.append(Pattern.quote(String.valueOf(pattern.charAt(++k))));
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(re.toString());
    }

    static byte[] manifest(byte[] config, List<Layer> layers) {
        return ImageOperations.manifest(BlobStore.digest(config), config.length, layers);
    }

    private static Instant time(String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 12 hex digits Docker shows for an id. */
    static String shortId(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }
}
