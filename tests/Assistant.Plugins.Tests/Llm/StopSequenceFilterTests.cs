using Assistant.Plugins.Llm;

namespace Assistant.Plugins.Tests.Llm;

public sealed class StopSequenceFilterTests
{
    [Fact]
    public void Push_StopSplitAcrossPieces_EmitsTextBeforeItOnly()
    {
        var filter = new StopSequenceFilter(["\nUser:"]);

        var emitted = filter.Push(" Hello") + filter.Push(" there\nUs") + filter.Push("er: more") + filter.Flush();

        Assert.Equal("Hello there", emitted);
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void Push_PrefixThatIsNotAStop_IsEmittedOnceDisproved()
    {
        var filter = new StopSequenceFilter(["\nUser:"]);

        var first = filter.Push("a\nUs");
        var second = filter.Push("ually");

        Assert.Equal("a", first);
        Assert.Equal("\nUsually", second);
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void Flush_HeldBackTailAtEnd_IsEmitted()
    {
        var filter = new StopSequenceFilter(["\nUser:"]);

        var emitted = filter.Push("end\n") + filter.Flush();

        Assert.Equal("end\n", emitted);
    }

    [Fact]
    public void Push_NoStops_PassesTextThroughWithoutLeadingWhitespace()
    {
        var filter = new StopSequenceFilter([]);

        Assert.Equal("", filter.Push("  \n"));
        Assert.Equal("x y", filter.Push(" x y"));
    }
}
