using System.Numerics.Tensors;

namespace Ranking.Sequential;

/// <summary>
/// Forward and backward passes of the transformer's layers on flat row-major buffers of T rows (one per position).
/// Backward methods add into parameter gradients (they are summed over positions and sequences); input gradients
/// are written or added as each method says. Nothing here allocates.
/// </summary>
internal static class TransformerLayers
{
    /// <summary>ε inside the layer norm's square root.</summary>
    public const float NormEpsilon = 1e-5f;

    private static readonly float GeluScale = MathF.Sqrt(2f / MathF.PI);

    /// <summary>y[t] = scale · table[ids[t]] + positions[positionOffset + t], d columns per row.</summary>
    public static void EmbeddingForward(ReadOnlySpan<int> ids, ReadOnlySpan<float> table, ReadOnlySpan<float> positions, int positionOffset, float scale, Span<float> y, int d)
    {
        for (var t = 0; t < ids.Length; t++)
        {
            TensorPrimitives.MultiplyAdd(
                table.Slice(ids[t] * d, d), scale, positions.Slice((positionOffset + t) * d, d), y.Slice(t * d, d));
        }
    }

    /// <summary>Scatter-adds dy into the rows of the table and the position gradients (a repeated id gets every row's share).</summary>
    public static void EmbeddingBackward(ReadOnlySpan<int> ids, ReadOnlySpan<float> dy, int positionOffset, float scale, Span<float> dTable, Span<float> dPositions, int d)
    {
        for (var t = 0; t < ids.Length; t++)
        {
            var row = dy.Slice(t * d, d);
            var target = dTable.Slice(ids[t] * d, d);
            TensorPrimitives.MultiplyAdd(row, scale, target, target);
            var position = dPositions.Slice((positionOffset + t) * d, d);
            TensorPrimitives.Add(position, row, position);
        }
    }

    /// <summary>Layer norm of each row; keeps each row's mean and 1/σ for the backward pass.</summary>
    public static void LayerNormForward(
        ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> mean, Span<float> rstd, int rows, int d)
    {
        for (var t = 0; t < rows; t++)
        {
            var row = x.Slice(t * d, d);
            var mu = TensorPrimitives.Sum(row) / d;
            var variance = 0f;
            for (var i = 0; i < d; i++)
            {
                var c = row[i] - mu;
                variance += c * c;
            }

            var r = 1f / MathF.Sqrt((variance / d) + NormEpsilon);
            mean[t] = mu;
            rstd[t] = r;
            var output = y.Slice(t * d, d);
            for (var i = 0; i < d; i++)
            {
                output[i] = ((row[i] - mu) * r * gamma[i]) + beta[i];
            }
        }
    }

    /// <summary>Adds the input gradient into <paramref name="dx"/> and the gain and bias gradients into theirs.</summary>
    public static void LayerNormBackward(
        ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dGamma, Span<float> dBeta, int rows, int d)
    {
        for (var t = 0; t < rows; t++)
        {
            var g = dy.Slice(t * d, d);
            var row = x.Slice(t * d, d);
            var mu = mean[t];
            var r = rstd[t];

            // With x̂ = (x − μ)/σ and ĝ = dy·γ: dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) / σ.
            var meanG = 0f;
            var meanGx = 0f;
            for (var i = 0; i < d; i++)
            {
                var xHat = (row[i] - mu) * r;
                var gHat = g[i] * gamma[i];
                meanG += gHat;
                meanGx += gHat * xHat;
                dGamma[i] += g[i] * xHat;
                dBeta[i] += g[i];
            }

            meanG /= d;
            meanGx /= d;
            var output = dx.Slice(t * d, d);
            for (var i = 0; i < d; i++)
            {
                var xHat = (row[i] - mu) * r;
                output[i] += ((g[i] * gamma[i]) - meanG - (xHat * meanGx)) * r;
            }
        }
    }

    /// <summary>y[rows×outputs] = x[rows×inputs] · W[inputs×outputs] + b.</summary>
    public static void LinearForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int rows, int inputs, int outputs)
    {
        for (var t = 0; t < rows; t++)
        {
            b.CopyTo(y.Slice(t * outputs, outputs));
        }

        MatrixKernels.Multiply(x, w, y, rows, inputs, outputs, accumulate: true);
    }

    /// <summary>
    /// Adds dW = xᵀ·dy and db = Σ dy; writes dx = dy·Wᵀ, or adds it when <paramref name="accumulateDx"/>.
    /// <paramref name="transposed"/> (at least inputs × outputs floats) receives Wᵀ, so that dx runs through the
    /// register-blocked kernel instead of one short dot product per entry.
    /// </summary>
    public static void LinearBackward(
        ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> dx, Span<float> dW, Span<float> dB,
        Span<float> transposed, int rows, int inputs, int outputs, bool accumulateDx)
    {
        for (var t = 0; t < rows; t++)
        {
            TensorPrimitives.Add(dB, dy.Slice(t * outputs, outputs), dB);
        }

        MatrixKernels.MultiplyTransposedA(x, dy, dW, inputs, rows, outputs, accumulate: true);
        for (var i = 0; i < inputs; i++)
        {
            var row = w.Slice(i * outputs, outputs);
            for (var o = 0; o < outputs; o++)
            {
                transposed[(o * inputs) + i] = row[o];
            }
        }

        MatrixKernels.Multiply(dy, transposed, dx, rows, outputs, inputs, accumulateDx);
    }

    /// <summary>GELU, tanh approximation: 0.5 u (1 + tanh(√(2/π) (u + 0.044715 u³))).</summary>
    public static void GeluForward(ReadOnlySpan<float> u, Span<float> g)
    {
        for (var i = 0; i < u.Length; i++)
        {
            var x = u[i];
            g[i] = 0.5f * x * (1f + MathF.Tanh(GeluScale * (x + (0.044715f * x * x * x))));
        }
    }

    /// <summary>Writes du = dg · GELU′(u) over the length of <paramref name="dg"/>.</summary>
    public static void GeluBackward(ReadOnlySpan<float> dg, ReadOnlySpan<float> u, Span<float> du)
    {
        for (var i = 0; i < dg.Length; i++)
        {
            var x = u[i];
            var inner = GeluScale * (x + (0.044715f * x * x * x));
            var th = MathF.Tanh(inner);
            var derivative = (0.5f * (1f + th)) + (0.5f * x * (1f - (th * th)) * GeluScale * (1f + (3f * 0.044715f * x * x)));
            du[i] = dg[i] * derivative;
        }
    }

    /// <summary>
    /// Causal multi-head self-attention on packed projections <paramref name="qkv"/> (rows of [q | k | v], each d wide,
    /// head h owning columns h·d/H .. (h+1)·d/H of each). Writes the attention weights (H × T × T, row i holding
    /// positions 0..i; the rest left as they were) and the concatenated head outputs y[T×d].
    /// </summary>
    public static void AttentionForward(ReadOnlySpan<float> qkv, Span<float> probs, Span<float> y, int rows, int d, int heads)
    {
        var hd = d / heads;
        var scale = 1f / MathF.Sqrt(hd);
        var stride = 3 * d;
        y[..(rows * d)].Clear();
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < rows; i++)
            {
                var q = qkv.Slice((i * stride) + (h * hd), hd);
                var p = probs.Slice((((h * rows) + i) * rows), i + 1);
                for (var j = 0; j <= i; j++)
                {
                    p[j] = TensorPrimitives.Dot(q, qkv.Slice((j * stride) + d + (h * hd), hd)) * scale;
                }

                TensorPrimitives.SoftMax(p, p);
                var output = y.Slice((i * d) + (h * hd), hd);
                for (var j = 0; j <= i; j++)
                {
                    TensorPrimitives.MultiplyAdd(qkv.Slice((j * stride) + (2 * d) + (h * hd), hd), p[j], output, output);
                }
            }
        }
    }

    /// <summary>
    /// Writes the gradient of the packed projections from the output gradient dy[T×d]. <paramref name="scratch"/>
    /// holds at least T floats.
    /// </summary>
    public static void AttentionBackward(
        ReadOnlySpan<float> dy, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probs, Span<float> dQkv, Span<float> scratch, int rows, int d, int heads)
    {
        var hd = d / heads;
        var scale = 1f / MathF.Sqrt(hd);
        var stride = 3 * d;
        dQkv[..(rows * stride)].Clear();
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < rows; i++)
            {
                var g = dy.Slice((i * d) + (h * hd), hd);
                var p = probs.Slice((((h * rows) + i) * rows), i + 1);
                var dp = scratch[..(i + 1)];

                // y_i = Σ_j p_ij v_j: dp_ij = g·v_j and dv_j += p_ij g.
                for (var j = 0; j <= i; j++)
                {
                    var vOffset = (j * stride) + (2 * d) + (h * hd);
                    dp[j] = TensorPrimitives.Dot(g, qkv.Slice(vOffset, hd));
                    var dv = dQkv.Slice(vOffset, hd);
                    TensorPrimitives.MultiplyAdd(g, p[j], dv, dv);
                }

                // Softmax: ds_ij = p_ij (dp_ij − Σ_k p_ik dp_ik); then s_ij = scale · q_i·k_j.
                var weighted = TensorPrimitives.Dot(p, dp);
                var qOffset = (i * stride) + (h * hd);
                var q = qkv.Slice(qOffset, hd);
                var dq = dQkv.Slice(qOffset, hd);
                for (var j = 0; j <= i; j++)
                {
                    var ds = p[j] * (dp[j] - weighted) * scale;
                    var kOffset = (j * stride) + d + (h * hd);
                    TensorPrimitives.MultiplyAdd(qkv.Slice(kOffset, hd), ds, dq, dq);
                    var dk = dQkv.Slice(kOffset, hd);
                    TensorPrimitives.MultiplyAdd(q, ds, dk, dk);
                }
            }
        }
    }

    /// <summary>Fills a dropout mask: 0 with probability p, else 1/(1 − p); all ones when p is 0.</summary>
    public static void DropoutMask(Span<float> mask, float p, ref SplitMix random)
    {
        if (p <= 0)
        {
            mask.Fill(1f);
            return;
        }

        var keep = 1f / (1f - p);
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = random.NextSingle() < p ? 0f : keep;
        }
    }
}

/// <summary>SplitMix64: a small, fast generator whose whole state is one seedable 64-bit value.</summary>
internal struct SplitMix(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A seed mixed from several parts (run seed, epoch, sequence), so streams do not overlap in practice.</summary>
    public static ulong Mix(long a, long b, long c)
    {
        var s = new SplitMix((ulong)a * 0x9E3779B97F4A7C15UL);
        s._state ^= (ulong)b * 0xBF58476D1CE4E5B9UL;
        s.NextUInt64();
        s._state ^= (ulong)c * 0x94D049BB133111EBUL;
        return s.NextUInt64();
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, n) for n ≥ 1.</summary>
    public int Next(int n) => (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);
}
