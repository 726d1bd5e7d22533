using System.Runtime.CompilerServices;

namespace Ranking.Import.Datasets;

/// <summary>
/// Fills <see cref="ImportChunk"/>s up to a size for the data set sources. A source adds all the records of one
/// source row before asking <see cref="IsFull"/>, so a row's records never straddle two chunks.
/// </summary>
internal sealed class ChunkBuilder
{
    private readonly int _size;

    public ChunkBuilder(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _size = size;
    }

    public ImportChunk Current { get; private set; } = new();

    public bool IsFull => Current.RecordCount + Current.Errors.Count >= _size;

    public bool IsEmpty => Current.RecordCount + Current.Errors.Count == 0;

    /// <summary>The chunk filled so far; the builder starts a new one.</summary>
    public ImportChunk Take()
    {
        var chunk = Current;
        Current = new ImportChunk();
        return chunk;
    }

    /// <summary>
    /// Hands out chunks produced by a synchronous reader. The files are read with synchronous calls (buffered, local),
    /// as <see cref="RecordFileSource"/> does; the caller gets control back between chunks.
    /// </summary>
    public static async IAsyncEnumerable<ImportChunk> StreamAsync(
        IEnumerable<ImportChunk> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var chunk in chunks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return chunk;
            await Task.Yield();
        }
    }
}
