package dev.berth.image.build;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerfileParserTest {

    private static List<Instruction> parse(String text) {
        return DockerfileParser.parse(text).instructions();
    }

    @Test
    void classicShapeWithCommentsAndCaseInsensitiveNames() {
        List<Instruction> all = parse("""
                # a comment
                from busybox:local AS base

                WorkDir /app
                  # indented comment
                COPY . .
                run echo hi
                CMD ["cat", "/app/hello.txt"]
                """);
        assertThat(all).extracting(Instruction::keyword).containsExactly("from", "workdir", "copy", "run", "cmd");
        assertThat(all).extracting(Instruction::line).containsExactly(2, 4, 6, 7, 8);
        assertThat(all.get(0).args()).isEqualTo("busybox:local AS base");
        assertThat(all.get(0).original()).isEqualTo("from busybox:local AS base");
        assertThat(all.get(3).isJson()).isFalse();
        assertThat(all.get(3).args()).isEqualTo("echo hi");
        assertThat(all.get(4).json()).containsExactly("cat", "/app/hello.txt");
    }

    @Test
    void continuationsJoinLinesAndDropEmptyAndCommentLinesInside() {
        List<Instruction> all = parse("FROM x\nRUN echo a \\\n\n    # inside\n  && echo b \\   \n  && echo c\nENV A=1\n");
        assertThat(all).hasSize(3);
        assertThat(all.get(1).args()).isEqualTo("echo a   && echo b   && echo c");
        assertThat(all.get(1).line()).isEqualTo(2);
        assertThat(all.get(2).line()).isEqualTo(7);
    }

    @Test
    void escapeDirectiveChangesTheContinuationCharacter() {
        DockerfileParser.Dockerfile d = DockerfileParser.parse("# escape=`\n# syntax=docker/dockerfile:1\nFROM x\n"
                + "RUN dir c:\\ `\n  && echo done\n");
        assertThat(d.escape()).isEqualTo('`');
        assertThat(d.directives()).containsEntry("escape", "`").containsEntry("syntax", "docker/dockerfile:1");
        assertThat(d.instructions().get(1).args()).isEqualTo("dir c:\\   && echo done");
    }

    @Test
    void aDirectiveAfterAnInstructionOrCommentIsOnlyAComment() {
        DockerfileParser.Dockerfile d = DockerfileParser.parse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
        assertThat(d.escape()).isEqualTo('\\');
        assertThat(d.directives()).isEmpty();
        assertThat(d.instructions().get(1).args()).isEqualTo("a  b");
    }

    @Test
    void badEscapeDirectiveIsAParseError() {
        assertThatThrownBy(() -> DockerfileParser.parse("# escape=x\nFROM y\n"))
                .hasMessage("Dockerfile parse error line 1: invalid escape token 'x' does not match ` or \\");
    }

    @Test
    void unknownInstructionNamesItsLine() {
        assertThatThrownBy(() -> parse("FROM x\n\nfoo bar\n"))
                .isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile parse error line 3: unknown instruction: FOO")
                .satisfies(e -> assertThat(((BuildException) e).status()).isEqualTo(400));
    }

    @Test
    void flagsAreReadAndUnknownOnesRefused() {
        Instruction copy = parse("FROM x\nCOPY --from=build --chown=1:2 /out/a /a\n").get(1);
        assertThat(copy.flags()).isEqualTo(Map.of("from", "build", "chown", "1:2"));
        assertThat(copy.args()).isEqualTo("/out/a /a");
        assertThatThrownBy(() -> parse("FROM x\nCOPY --form=build a b\n"))
                .hasMessage("Dockerfile parse error line 2: Unknown flag: form");
        assertThatThrownBy(() -> parse("FROM x\nENV --x=1\n"))
                .hasMessage("Dockerfile parse error line 2: Unknown flag: x");
    }

    @Test
    void jsonFormOnlyWhenItIsAJsonArrayOfStrings() {
        List<Instruction> all = parse("FROM x\nCMD [\"a\", \"b c\"]\nCMD [not json]\nRUN [\"sh\", 1]\n");
        assertThat(all.get(1).json()).containsExactly("a", "b c");
        assertThat(all.get(2).json()).isNull();
        assertThat(all.get(3).json()).isNull();
    }

    @Test
    void anEmptyDockerfileIsRefused() {
        assertThatThrownBy(() -> parse("# only a comment\n\n")).hasMessageContaining("cannot be empty");
    }

    @Test
    void planCountsStepsAndStopsAtTheTarget() {
        BuildPlan plan = BuildPlan.of(DockerfileParser.parse("""
                ARG BASE=x
                FROM ${BASE} AS Builder
                RUN make
                FROM scratch AS final
                COPY --from=builder /out /out
                CMD ["/out"]
                """), null);
        assertThat(plan.args()).hasSize(1);
        assertThat(plan.stages()).extracting(BuildPlan.Stage::name).containsExactly("builder", "final");
        assertThat(plan.steps()).isEqualTo(6);
        BuildPlan targeted = BuildPlan.of(DockerfileParser.parse("FROM x AS a\nRUN a\nFROM y AS b\nRUN b\n"), "A");
        assertThat(targeted.stages()).hasSize(1);
        assertThat(targeted.steps()).isEqualTo(2);
        assertThatThrownBy(() -> BuildPlan.of(DockerfileParser.parse("FROM x AS a\n"), "nope"))
                .hasMessage("failed to reach build target nope in Dockerfile");
    }

    @Test
    void planRefusesInstructionsBeforeFromAndBadFromForms() {
        assertThatThrownBy(() -> BuildPlan.of(DockerfileParser.parse("RUN x\nFROM y\n"), null))
                .hasMessage("Dockerfile parse error line 1: no build stage in current context");
        assertThatThrownBy(() -> BuildPlan.of(DockerfileParser.parse("FROM a b\n"), null))
                .hasMessage("Dockerfile parse error line 1: FROM requires either one or three arguments");
        assertThatThrownBy(() -> BuildPlan.of(DockerfileParser.parse("FROM a AS 1x\n"), null))
                .hasMessageContaining("invalid name for build stage");
        assertThatThrownBy(() -> BuildPlan.of(DockerfileParser.parse("FROM a AS s\nFROM b AS S\n"), null))
                .hasMessage("Dockerfile parse error line 2: duplicate name S");
    }
}
