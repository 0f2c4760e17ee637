package dev.berth.image.build;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShellWordsTest {

    private static final Map<String, String> ENV = Map.of("x", "val", "empty", "", "two", "a b");
    private static final Function<String, String> LOOKUP = ENV::get;

    private static String word(String s) {
        return ShellWords.word(s, LOOKUP, '\\');
    }

    @Test
    void plainAndBracedVariables() {
        assertThat(word("$x")).isEqualTo("val");
        assertThat(word("${x}y")).isEqualTo("valy");
        assertThat(word("$xy")).isEqualTo("");
        assertThat(word("a$unset-b")).isEqualTo("a-b");
        assertThat(word("cost$")).isEqualTo("cost$");
    }

    @Test
    void defaultAndAlternativeModifiers() {
        assertThat(word("${unset:-d}")).isEqualTo("d");
        assertThat(word("${empty:-d}")).isEqualTo("d");
        assertThat(word("${empty-d}")).isEqualTo("");
        assertThat(word("${unset-d}")).isEqualTo("d");
        assertThat(word("${x:-d}")).isEqualTo("val");
        assertThat(word("${x:+alt}")).isEqualTo("alt");
        assertThat(word("${empty:+alt}")).isEqualTo("");
        assertThat(word("${empty+alt}")).isEqualTo("alt");
        assertThat(word("${unset:+alt}")).isEqualTo("");
        assertThat(word("${unset:-${x}}")).isEqualTo("val");
    }

    @Test
    void quotesAndEscapes() {
        assertThat(word("'$x'")).isEqualTo("$x");
        assertThat(word("\"$x y\"")).isEqualTo("val y");
        assertThat(word("\\$x")).isEqualTo("$x");
        assertThat(word("\"a\\\"b\"")).isEqualTo("a\"b");
        assertThat(ShellWords.word("`$x", LOOKUP, '`')).isEqualTo("$x");
    }

    @Test
    void wordsSplitOnUnquotedSpaceOnly() {
        assertThat(ShellWords.words("a \"b c\" $x", LOOKUP, '\\')).containsExactly("a", "b c", "val");
        assertThat(ShellWords.words("  80/tcp   443 ", LOOKUP, '\\')).containsExactly("80/tcp", "443");
    }

    @Test
    void errorsAreDockers() {
        assertThatThrownBy(() -> word("'open")).hasMessageContaining("matching single-quote");
        assertThatThrownBy(() -> word("\"open")).hasMessageContaining("matching double-quote");
        assertThatThrownBy(() -> word("${x")).hasMessageContaining("missing '}'");
        assertThatThrownBy(() -> word("${x:=d}")).hasMessage("unsupported modifier (=) in substitution");
        assertThatThrownBy(() -> word("${unset:?must be set}")).hasMessage("unset: must be set");
    }
}
