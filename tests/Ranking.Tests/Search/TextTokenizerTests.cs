using Ranking.Search;

namespace Ranking.Tests.Search;

public sealed class TextTokenizerTests
{
    [Theory]
    [InlineData("Red Ski-Boots", "red ski boot")]
    [InlineData("The best boots for the SKIING season!", "best boot ski season")]
    [InlineData("Kettle 1.7 l, 2200W", "kettle 1 7 l 2200w")]
    [InlineData("Sports/Winter/Snowboards", "sport winter snowboard")]
    [InlineData("  --  ", "")]
    [InlineData("", "")]
    [InlineData("Crème brûlée", "crème brûlée")]
    [InlineData("of and the", "")]
    public void Tokenize_Text_LowerCaseStemmedWithoutStopWords(string text, string expected)
    {
        var terms = TextTokenizer.Tokenize(text);

        Assert.Equal(expected, string.Join(' ', terms));
    }

    [Fact]
    public void Tokenize_Null_Nothing()
    {
        var terms = new List<string> { "kept" };

        TextTokenizer.Tokenize(null, terms);

        Assert.Equal(["kept"], terms);
    }

    [Fact]
    public void Tokenize_RepeatedWord_KeepsRepeats()
    {
        Assert.Equal(["pan", "pan"], TextTokenizer.Tokenize("pan, PANS"));
    }

    [Fact]
    public void Tokenize_WordLongerThanStackBuffer_Tokenized()
    {
        var word = new string('x', 100) + "S";

        Assert.Equal([new string('x', 100)], TextTokenizer.Tokenize(word));
    }

    [Theory]
    // plurals
    [InlineData("boots", "boot")]
    [InlineData("batteries", "battery")]
    [InlineData("glasses", "glass")]
    [InlineData("boxes", "box")]
    [InlineData("watches", "watch")]
    [InlineData("brushes", "brush")]
    [InlineData("shoes", "shoe")]
    [InlineData("ties", "tie")]
    [InlineData("glass", "glass")]
    [InlineData("status", "status")]
    [InlineData("tennis", "tennis")]
    // -ing
    [InlineData("running", "run")]
    [InlineData("skiing", "ski")]
    [InlineData("clothing", "cloth")]
    [InlineData("bedding", "bed")]
    [InlineData("rolling", "roll")]
    [InlineData("string", "string")]
    [InlineData("king", "king")]
    // -ed
    [InlineData("heated", "heat")]
    [InlineData("padded", "pad")]
    [InlineData("speed", "speed")]
    [InlineData("used", "used")]
    // left alone
    [InlineData("red", "red")]
    [InlineData("gas", "gas")]
    [InlineData("4wds", "4wds")]
    public void Stem_Word_ExpectedStem(string word, string expected)
    {
        Assert.Equal(expected, TextTokenizer.Stem(word));
    }

    [Theory]
    [InlineData("the", true)]
    [InlineData("with", true)]
    [InlineData("ski", false)]
    public void IsStopWord_Word_Expected(string word, bool expected)
    {
        Assert.Equal(expected, TextTokenizer.IsStopWord(word));
    }
}
