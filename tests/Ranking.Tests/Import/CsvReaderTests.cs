using Ranking.Import;

namespace Ranking.Tests.Import;

public sealed class CsvReaderTests
{
    [Fact]
    public void TryRead_QuotedFieldsWithCommasQuotesAndNewlines_ParsedWithStartLines()
    {
        var text = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,,3\n";
        var reader = new CsvReader(new StringReader(text));
        var fields = new List<string>();

        Assert.True(reader.TryRead(fields, out var l1));
        Assert.Equal(["a", "b", "c"], fields);
        Assert.Equal(1, l1);
        Assert.True(reader.TryRead(fields, out var l2));
        Assert.Equal(["x, y", "say \"hi\"", "two\nlines"], fields);
        Assert.Equal(2, l2);
        Assert.True(reader.TryRead(fields, out var l3));
        Assert.Equal(["1", "", "3"], fields);
        Assert.Equal(5, l3);
        Assert.False(reader.TryRead(fields, out _));
    }

    [Fact]
    public void TryRead_UnclosedQuote_Throws()
    {
        var reader = new CsvReader(new StringReader("\"never closed,1\n2,3"));

        Assert.Throws<FormatException>(() => reader.TryRead([], out _));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"x\"", "\"say \"\"x\"\"\"")]
    [InlineData(null, "")]
    public void Escape_RoundTripsThroughTheReader(string? value, string expected)
    {
        var escaped = CsvReader.Escape(value);
        var fields = new List<string>();
        new CsvReader(new StringReader(escaped + ",end")).TryRead(fields, out _);

        Assert.Equal(expected, escaped);
        Assert.Equal(value ?? "", fields[0]);
    }
}

public sealed class CsvReaderReportTests
{
    [Fact]
    public void TryReadOrReport_UnclosedQuote_ReportsTheLineTheRecordStartsOn()
    {
        var reader = new CsvReader(new StringReader("a,b\n1,2\n\n3,\"never closed\n4,5\n"));
        var fields = new List<string>();
        var errors = new List<RowError>();

        Assert.True(reader.TryReadOrReport(fields, errors, out _));
        Assert.True(reader.TryReadOrReport(fields, errors, out var second));
        Assert.False(reader.TryReadOrReport(fields, errors, out var broken));

        Assert.Equal(2, second);
        Assert.Equal(4, broken);
        Assert.Equal(4, Assert.Single(errors).Line);
    }
}
