package dev.berth.image.build;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerIgnoreTest {

    @Test
    void goMatchSyntaxWithinOnePathElement() {
        DockerIgnore ignore = DockerIgnore.parse("# comment\n*.log\n/secret.txt\nte?t\n[ab].md\n");
        assertThat(ignore.ignored("x.log")).isTrue();
        assertThat(ignore.ignored("dir/x.log")).isFalse();
        assertThat(ignore.ignored("secret.txt")).isTrue();
        assertThat(ignore.ignored("test")).isTrue();
        assertThat(ignore.ignored("teest")).isFalse();
        assertThat(ignore.ignored("a.md")).isTrue();
        assertThat(ignore.ignored("c.md")).isFalse();
    }

    @Test
    void doubleStarSpansDirectories() {
        DockerIgnore ignore = DockerIgnore.parse("**/*.tmp\nbuild/**\n");
        assertThat(ignore.ignored("a.tmp")).isTrue();
        assertThat(ignore.ignored("a/b/c.tmp")).isTrue();
        assertThat(ignore.ignored("build/x/y")).isTrue();
        assertThat(ignore.ignored("src/x")).isFalse();
    }

    @Test
    void aMatchedDirectoryTakesItsContentAndExceptionsComeBack() {
        DockerIgnore ignore = DockerIgnore.parse("docs\n*.md\n!README.md\n");
        assertThat(ignore.ignored("docs/guide/a.txt")).isTrue();
        assertThat(ignore.ignored("CHANGES.md")).isTrue();
        assertThat(ignore.ignored("README.md")).isFalse();
        assertThat(ignore.hasExceptions()).isTrue();
    }

    @Test
    void theLastMatchingPatternDecides() {
        DockerIgnore ignore = DockerIgnore.parse("!keep.txt\n*.txt\n");
        assertThat(ignore.ignored("keep.txt")).isTrue();
        assertThat(DockerIgnore.parse("*.txt\n!keep.txt\n").ignored("keep.txt")).isFalse();
    }

    @Test
    void patternsAreCleaned() {
        DockerIgnore ignore = DockerIgnore.parse("./a/../b/c\n");
        assertThat(ignore.ignored("b/c")).isTrue();
        assertThat(ignore.ignored("b/c/d")).isTrue();
        assertThat(ignore.ignored("a/b/c")).isFalse();
    }

    @Test
    void aLoneExclamationMarkIsRefused() {
        assertThatThrownBy(() -> DockerIgnore.parse("!\n")).isInstanceOf(BuildException.class);
    }
}
