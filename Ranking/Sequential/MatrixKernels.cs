using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ranking.Sequential;

/// <summary>
/// Dense row-major matrix products for the transformer's forward and backward passes. Each output row is built in
/// Vector256 registers, 32 columns at a time, over the whole inner dimension, so an output element is written once
/// and the summation order is fixed (results do not depend on threads). Lengths are not checked beyond what span
/// slicing checks; callers pass exact sizes.
/// </summary>
internal static class MatrixKernels
{
    /// <summary>C[m×n] = (or +=) A[m×k] · B[k×n].</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            AccumulateRow(a, i * k, 1, k, b, n, c.Slice(i * n, n), accumulate);
        }
    }

    /// <summary>C[m×n] = (or +=) Aᵀ · B with A stored [k×m] and B [k×n] (a weight gradient: inputsᵀ · output gradients).</summary>
    public static void MultiplyTransposedA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            AccumulateRow(a, i, m, k, b, n, c.Slice(i * n, n), accumulate);
        }
    }

    /// <summary>C[m×n] = (or +=) A · Bᵀ with A stored [m×k] and B [n×k] (every entry one dot product of two rows).</summary>
    public static void MultiplyTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            var row = a.Slice(i * k, k);
            var cRow = c.Slice(i * n, n);
            for (var j = 0; j < n; j++)
            {
                var dot = TensorPrimitives.Dot(row, b.Slice(j * k, k));
                cRow[j] = accumulate ? cRow[j] + dot : dot;
            }
        }
    }

    // cRow[j] (+)= Σ_p a[aOffset + p·aStride] · b[p·n + j]: the coefficients of one output row, read with a stride so the
    // same loop serves A and Aᵀ.
    private static void AccumulateRow(ReadOnlySpan<float> a, int aOffset, int aStride, int k, ReadOnlySpan<float> b, int n, Span<float> cRow, bool accumulate)
    {
        ref var aRef = ref MemoryMarshal.GetReference(a);
        ref var bRef = ref MemoryMarshal.GetReference(b);
        ref var cRef = ref MemoryMarshal.GetReference(cRow);
        if (k > 0 && ((long)(k - 1) * aStride) + aOffset >= a.Length)
        {
            throw new ArgumentException("A is shorter than the product needs.", nameof(a));
        }

        if ((long)k * n > b.Length)
        {
            throw new ArgumentException("B is shorter than the product needs.", nameof(b));
        }

        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 32 <= n; j += 32)
            {
                var c0 = accumulate ? Vector256.LoadUnsafe(ref cRef, (nuint)j) : Vector256<float>.Zero;
                var c1 = accumulate ? Vector256.LoadUnsafe(ref cRef, (nuint)(j + 8)) : Vector256<float>.Zero;
                var c2 = accumulate ? Vector256.LoadUnsafe(ref cRef, (nuint)(j + 16)) : Vector256<float>.Zero;
                var c3 = accumulate ? Vector256.LoadUnsafe(ref cRef, (nuint)(j + 24)) : Vector256<float>.Zero;
                for (var p = 0; p < k; p++)
                {
                    var s = Vector256.Create(Unsafe.Add(ref aRef, aOffset + (p * aStride)));
                    var offset = (nuint)((p * n) + j);
                    c0 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bRef, offset), c0);
                    c1 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bRef, offset + 8), c1);
                    c2 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bRef, offset + 16), c2);
                    c3 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bRef, offset + 24), c3);
                }

                c0.StoreUnsafe(ref cRef, (nuint)j);
                c1.StoreUnsafe(ref cRef, (nuint)(j + 8));
                c2.StoreUnsafe(ref cRef, (nuint)(j + 16));
                c3.StoreUnsafe(ref cRef, (nuint)(j + 24));
            }

            for (; j + 8 <= n; j += 8)
            {
                var c0 = accumulate ? Vector256.LoadUnsafe(ref cRef, (nuint)j) : Vector256<float>.Zero;
                for (var p = 0; p < k; p++)
                {
                    var s = Vector256.Create(Unsafe.Add(ref aRef, aOffset + (p * aStride)));
                    c0 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bRef, (nuint)((p * n) + j)), c0);
                }

                c0.StoreUnsafe(ref cRef, (nuint)j);
            }
        }

        for (; j < n; j++)
        {
            var sum = accumulate ? cRow[j] : 0f;
            for (var p = 0; p < k; p++)
            {
                sum = MathF.FusedMultiplyAdd(a[aOffset + (p * aStride)], b[(p * n) + j], sum);
            }

            cRow[j] = sum;
        }
    }
}
