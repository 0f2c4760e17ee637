package dev.berth.image.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ImageConfigsWordsTest {

    @Test
    void splitsAtUnquotedWhitespaceKeepingQuotesAndEscapes() {
        assertThat(ImageConfigs.words("a=1  b=\"two words\" c=x\\ y", '\\'))
                .containsExactly("a=1", "b=\"two words\"", "c=x\\ y");
    }

    @Test
    void theEscapeIsLiteralInsideSingleQuotes() {
        // 'x\' ends the quote at the second quote: the backslash does not escape it
        assertThat(ImageConfigs.words("a='x\\' b=2", '\\')).containsExactly("a='x\\'", "b=2");
    }

    @Test
    void theDockerfileEscapeDirectiveIsHonoured() {
        assertThat(ImageConfigs.words("a=x` y b=c\\d", '`')).containsExactly("a=x` y", "b=c\\d");
    }

    @Test
    void importChangesQuoteAsDockerDoes() {
        var config = ImageConfigs.emptyContainerConfig();
        ImageConfigs.applyChanges(config, java.util.List.of("ENV A=\"x y\" B='p\\q' C=r\\ s"));
        assertThat(config.get("Env").toString()).isEqualTo("[\"A=x y\",\"B=p\\\\q\",\"C=r s\"]");
    }
}
