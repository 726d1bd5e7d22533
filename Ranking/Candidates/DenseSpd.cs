using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ranking.Candidates;

/// <summary>Which micro-kernel the dense routines multiply with (tests force each one; production takes the best).</summary>
internal enum DenseKernel
{
    /// <summary>Plain scalar loops, 4 × 4 register tile: the fallback without SIMD.</summary>
    Scalar,

    /// <summary>AVX2 + FMA, 6 × 16 register tile.</summary>
    Vector256,

    /// <summary>AVX-512, 8 × 32 register tile.</summary>
    Vector512,
}

/// <summary>
/// Dense symmetric positive-definite matrices of order n held row-major in a <c>float[n·n]</c>: Cholesky factorisation
/// (G = L·Lᵀ) and inversion (P = L⁻ᵀ·L⁻¹), both in place, for orders up to a few tens of thousands.
/// </summary>
/// <remarks>
/// <para>
/// Both are blocked (blocks of 256): the Cholesky is right-looking, and the inverse sweeps the blocks from the last
/// to the first with P_{&gt;j,j} = −P_{&gt;j,&gt;j}·L_{&gt;j,j}·L_jj⁻¹ and P_jj = L_jj⁻ᵀ·(I + L_{&gt;j,j}ᵀ·P_{&gt;j,&gt;j}·L_{&gt;j,j})·L_jj⁻¹,
/// so that nearly all of the n³ floating-point operations (n³/3 for the factor, 2n³/3 for the inverse) run in one
/// packed, cache-blocked, register-tiled multiply-add kernel (AVX-512 or AVX2 with FMA where available), parallel
/// over row tiles. Extra memory is about 2 · 256 · n floats plus 130 KB per thread; the matrix itself is overwritten.
/// </para>
/// <para>
/// Arithmetic is single precision throughout; the error of the inverse grows with the condition number of the
/// matrix: in the tests about 1e-5 of the largest entry at condition number 1,300, 5e-7 for well-conditioned ones.
/// </para>
/// </remarks>
public static unsafe class DenseSpd
{
    /// <summary>Order of the diagonal blocks, and depth of each packed panel of the multiply.</summary>
    internal const int DefaultBlockSize = 256;

    /// <summary>The fastest kernel this processor runs.</summary>
    internal static DenseKernel BestKernel { get; } =
        Vector512.IsHardwareAccelerated ? DenseKernel.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? DenseKernel.Vector256
        : DenseKernel.Scalar;

    /// <summary>Whether the processor runs <paramref name="kernel"/> natively.</summary>
    internal static bool IsSupported(DenseKernel kernel) => kernel switch
    {
        DenseKernel.Vector512 => Vector512.IsHardwareAccelerated,
        DenseKernel.Vector256 => Vector256.IsHardwareAccelerated && Fma.IsSupported,
        _ => true,
    };

    /// <summary>
    /// Replaces a symmetric positive-definite matrix by its Cholesky factor L (G = L·Lᵀ): L in the lower triangle,
    /// zeros above the diagonal. Only the lower triangle (with the diagonal) of the input is read.
    /// </summary>
    /// <param name="matrix">Row-major, <paramref name="order"/>² elements; overwritten.</param>
    /// <param name="order">n, the number of rows; 0 does nothing.</param>
    /// <param name="maxDegreeOfParallelism">-1 for all cores, else at least 1.</param>
    /// <exception cref="ArgumentException">The length is not n², or the matrix is not positive definite (a pivot
    /// is zero, negative or NaN, which includes any NaN in the lower triangle); the matrix is then left partly
    /// factored.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between blocks; the matrix is left partly factored.</exception>
    public static void CholeskyInPlace(float[] matrix, int order, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default) =>
        CholeskyInPlace(matrix, order, BestKernel, DefaultBlockSize, maxDegreeOfParallelism, cancellationToken);

    /// <summary>
    /// Replaces a symmetric positive-definite matrix by its inverse, full (both triangles written, symmetric up to
    /// rounding in the off-diagonal blocks). Only the lower triangle (with the diagonal) of the input is read.
    /// </summary>
    /// <param name="matrix">Row-major, <paramref name="order"/>² elements; overwritten.</param>
    /// <param name="order">n, the number of rows; 0 does nothing.</param>
    /// <param name="maxDegreeOfParallelism">-1 for all cores, else at least 1.</param>
    /// <exception cref="ArgumentException">The length is not n², or the matrix is not positive definite (a pivot
    /// is zero, negative or NaN, which includes any NaN in the lower triangle); the matrix is then left partly
    /// factored. Positive but tiny pivots (a nearly singular matrix) are accepted and give a large, inaccurate inverse.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between blocks; the matrix is left in an undefined state.</exception>
    public static void InvertInPlace(float[] matrix, int order, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default) =>
        InvertInPlace(matrix, order, BestKernel, DefaultBlockSize, maxDegreeOfParallelism, cancellationToken);

    /// <inheritdoc cref="CholeskyInPlace(float[], int, int, CancellationToken)"/>
    internal static void CholeskyInPlace(float[] matrix, int order, DenseKernel kernel, int blockSize, int maxDegreeOfParallelism, CancellationToken cancellationToken)
    {
        Validate(matrix, order, kernel, blockSize, maxDegreeOfParallelism);
        if (order == 0)
        {
            return;
        }

        var workspace = new Workspace(kernel, blockSize, maxDegreeOfParallelism, cancellationToken);
        var panel = Pinned((long)order * blockSize, out var panelData);
        var inverse = Pinned((long)blockSize * blockSize, out var inverseData);
        fixed (float* m = matrix)
        {
            Factor(workspace, m, order, panel, inverse);
            for (var i = 0; i < order; i++)
            {
                new Span<float>(m + ((nint)i * order) + i + 1, order - i - 1).Clear();
            }
        }

        GC.KeepAlive(panelData);
        GC.KeepAlive(inverseData);
    }

    /// <inheritdoc cref="InvertInPlace(float[], int, int, CancellationToken)"/>
    internal static void InvertInPlace(float[] matrix, int order, DenseKernel kernel, int blockSize, int maxDegreeOfParallelism, CancellationToken cancellationToken)
    {
        Validate(matrix, order, kernel, blockSize, maxDegreeOfParallelism);
        if (order == 0)
        {
            return;
        }

        var workspace = new Workspace(kernel, blockSize, maxDegreeOfParallelism, cancellationToken);
        var panel = Pinned((long)order * blockSize, out var panelData);
        var t = Pinned((long)blockSize * blockSize, out var tData);
        var s = Pinned((long)blockSize * blockSize, out var sData);
        var u = Pinned((long)blockSize * blockSize, out var uData);
        fixed (float* m = matrix)
        {
            Factor(workspace, m, order, panel, t);
            InvertFactor(workspace, m, order, panel, t, s, u);
        }

        GC.KeepAlive(panelData);
        GC.KeepAlive(tData);
        GC.KeepAlive(sData);
        GC.KeepAlive(uData);
    }

    /// <summary>
    /// C (m × n, row-major) += alpha · op(A) · op(B), op(A) m × k and op(B) k × n, each given row-major and read
    /// transposed when asked; with <paramref name="lowerOnly"/> only the entries with column ≤ row are guaranteed
    /// (register tiles that straddle the diagonal also write a few entries above it). For tests.
    /// </summary>
    internal static void Multiply(
        float[] a, bool transposeA, float[] b, bool transposeB, float[] c, int m, int n, int k, float alpha, bool lowerOnly, DenseKernel kernel, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
        {
            throw new ArgumentException("An operand is shorter than its shape.");
        }

        var workspace = new Workspace(kernel, blockSize, -1, CancellationToken.None);
        fixed (float* pa = a, pb = b, pc = c)
        {
            Multiply(
                workspace,
                new Operand(pa, transposeA ? m : k, transposeA),
                new Operand(pb, transposeB ? k : n, transposeB),
                pc,
                n,
                m,
                n,
                k,
                alpha,
                lowerOnly);
        }
    }

    private static void Validate(float[] matrix, int order, DenseKernel kernel, int blockSize, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        if (matrix.Length != (long)order * order)
        {
            throw new ArgumentException($"A matrix of order {order} has {(long)order * order} elements, not {matrix.Length}.", nameof(matrix));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        if (maxDegreeOfParallelism is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 for all cores, or at least 1.");
        }

        if (!IsSupported(kernel))
        {
            throw new ArgumentException($"This processor does not run the {kernel} kernel.", nameof(kernel));
        }
    }

    // Right-looking blocked Cholesky: factor the diagonal block, solve the panel below it against L_kk⁻ᵀ, and take
    // the panel's outer product off the lower triangle of the trailing matrix.
    private static void Factor(Workspace workspace, float* m, int n, float* panelCopy, float* blockInverse)
    {
        var bs = workspace.BlockSize;
        for (var k0 = 0; k0 < n; k0 += bs)
        {
            workspace.CancellationToken.ThrowIfCancellationRequested();
            var b = Math.Min(bs, n - k0);
            var k1 = k0 + b;
            var rest = n - k1;
            var diagonal = m + ((nint)k0 * n) + k0;
            FactorDiagonalBlock(diagonal, n, b, k0);
            if (rest == 0)
            {
                break;
            }

            // L21 = A21 · L11⁻ᵀ through the multiply kernel; A21 is copied out first because it is overwritten.
            InvertLowerBlock(diagonal, n, b, blockInverse);
            var panel = m + ((nint)k1 * n) + k0;
            for (var r = 0; r < rest; r++)
            {
                var source = new Span<float>(panel + ((nint)r * n), b);
                source.CopyTo(new Span<float>(panelCopy + ((nint)r * b), b));
                source.Clear();
            }

            Multiply(workspace, new Operand(panelCopy, b, false), new Operand(blockInverse, b, true), panel, n, rest, b, b, 1f, false);

            // A22 −= L21 · L21ᵀ, lower triangle only.
            Multiply(workspace, new Operand(panel, n, false), new Operand(panel, n, true), m + ((nint)k1 * n) + k1, n, rest, rest, b, -1f, true);
        }
    }

    // From L (lower triangle of m) to P = L⁻ᵀ L⁻¹ (all of m), block column by block column from the last: each step
    // needs only the part of P already computed (rows and columns after the block) and the block's column of L.
    private static void InvertFactor(Workspace workspace, float* m, int n, float* x, float* t, float* s, float* u)
    {
        var bs = workspace.BlockSize;
        for (var j0 = (n - 1) / bs * bs; j0 >= 0; j0 -= bs)
        {
            workspace.CancellationToken.ThrowIfCancellationRequested();
            var b = Math.Min(bs, n - j0);
            var j1 = j0 + b;
            var rest = n - j1;
            var diagonal = m + ((nint)j0 * n) + j0;
            InvertLowerBlock(diagonal, n, b, t);
            new Span<float>(s, b * b).Clear();
            if (rest > 0)
            {
                var panel = m + ((nint)j1 * n) + j0;
                var trailing = m + ((nint)j1 * n) + j1;

                // X = P_{>j,>j} · L_{>j,j}; S = L_{>j,j}ᵀ · X.
                new Span<float>(x, checked(rest * b)).Clear();
                Multiply(workspace, new Operand(trailing, n, false), new Operand(panel, n, false), x, b, rest, b, rest, 1f, false);
                Multiply(workspace, new Operand(panel, n, true), new Operand(x, b, false), s, b, b, b, rest, 1f, false);

                // P_{>j,j} = −X · L_jj⁻¹ replaces L_{>j,j}, and is mirrored into the block row above the diagonal.
                for (var r = 0; r < rest; r++)
                {
                    new Span<float>(panel + ((nint)r * n), b).Clear();
                }

                Multiply(workspace, new Operand(x, b, false), new Operand(t, b, false), panel, n, rest, b, b, -1f, false);
                Mirror(workspace, panel, m + ((nint)j0 * n) + j1, n, rest, b);
            }

            // P_jj = L_jj⁻ᵀ · (I + S) · L_jj⁻¹.
            for (var i = 0; i < b; i++)
            {
                s[(i * b) + i] += 1f;
            }

            new Span<float>(u, b * b).Clear();
            Multiply(workspace, new Operand(s, b, false), new Operand(t, b, false), u, b, b, b, b, 1f, false);
            for (var r = 0; r < b; r++)
            {
                new Span<float>(diagonal + ((nint)r * n), b).Clear();
            }

            Multiply(workspace, new Operand(t, b, true), new Operand(u, b, false), diagonal, n, b, b, b, 1f, false);
            for (var i = 1; i < b; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    var mean = 0.5f * (diagonal[((nint)i * n) + j] + diagonal[((nint)j * n) + i]);
                    diagonal[((nint)i * n) + j] = mean;
                    diagonal[((nint)j * n) + i] = mean;
                }
            }
        }
    }

    // Unblocked Cholesky of one diagonal block whose left part has already been updated (dot-product form).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FactorDiagonalBlock(float* a, nint ld, int b, int offset)
    {
        for (var j = 0; j < b; j++)
        {
            var rowJ = a + (j * ld);
            var left = new ReadOnlySpan<float>(rowJ, j);
            var pivot = rowJ[j] - TensorPrimitives.Dot(left, left);
            if (!(pivot > 0f))
            {
                throw new ArgumentException(
                    $"The matrix is not positive definite: pivot {offset + j} of the Cholesky factorisation is {pivot} (must be > 0).",
                    "matrix");
            }

            var diagonal = MathF.Sqrt(pivot);
            rowJ[j] = diagonal;
            var scale = 1f / diagonal;
            for (var i = j + 1; i < b; i++)
            {
                var rowI = a + (i * ld);
                rowI[j] = (rowI[j] - TensorPrimitives.Dot(new ReadOnlySpan<float>(rowI, j), left)) * scale;
            }
        }
    }

    // T = L⁻¹ for a lower-triangular block, row by row: T[i, :] = (e_i − Σ_{p<i} L_ip · T[p, :]) / L_ii. T is b × b
    // with leading dimension b and zeros above the diagonal.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InvertLowerBlock(float* l, nint ld, int b, float* t)
    {
        new Span<float>(t, b * b).Clear();
        for (var i = 0; i < b; i++)
        {
            var rowL = l + (i * ld);
            var rowT = new Span<float>(t + (i * b), i + 1);
            for (var p = 0; p < i; p++)
            {
                var coefficient = rowL[p];
                if (coefficient != 0f)
                {
                    var target = rowT[..(p + 1)];
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(t + (p * b), p + 1), -coefficient, target, target);
                }
            }

            rowT[i] += 1f;
            TensorPrimitives.Multiply(rowT, 1f / rowL[i], rowT);
        }
    }

    // target (cols × rows, leading dimension ld) = sourceᵀ, in tiles of 64 source rows so reads stay in cache.
    private static void Mirror(Workspace workspace, float* source, float* target, nint ld, int rows, int cols)
    {
        const int Tile = 64;
        Parallel.For(0, (rows + Tile - 1) / Tile, workspace.Parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (tile) =>
        {
            var r0 = tile * Tile;
            var r1 = Math.Min(rows, r0 + Tile);
            for (var c = 0; c < cols; c++)
            {
                var to = target + (c * ld);
                for (var r = r0; r < r1; r++)
                {
                    to[r] = source[(r * ld) + c];
                }
            }
        });
    }

    /// <summary>
    /// C += alpha · op(A) · op(B): op(B) is packed whole into column slivers of the register tile's width (one
    /// layer per depth block); then each thread takes a tile of rows, packs its depth block of op(A) into row
    /// slivers (L2-sized) and runs the register-tiled kernel over every (row sliver, column sliver) pair, the column
    /// sliver staying in L1 while the row slivers stream past it.
    /// </summary>
    private static void Multiply(Workspace workspace, Operand a, Operand b, float* c, nint ldc, int m, int n, int k, float alpha, bool lowerOnly)
    {
        if (m <= 0 || n <= 0 || k <= 0)
        {
            return;
        }

        var mr = workspace.Mr;
        var nr = workspace.Nr;
        var kc = workspace.BlockSize;
        var mc = workspace.Mc;
        var slivers = (n + nr - 1) / nr;
        var paddedN = (nint)slivers * nr;
        var depthBlocks = (k + kc - 1) / kc;
        var packedB = workspace.PackedB((long)k * paddedN);

        Parallel.For(0, depthBlocks * slivers, workspace.Parallel, job =>
        {
            var depthBlock = job / slivers;
            var sliver = job - (depthBlock * slivers);
            var p0 = depthBlock * kc;
            var depth = Math.Min(kc, k - p0);
            var j0 = sliver * nr;
            PackB(b, p0, depth, j0, Math.Min(nr, n - j0), nr, packedB + ((nint)p0 * paddedN) + ((nint)j0 * depth));
        });

        var tiles = (m + mc - 1) / mc;
        var kernel = workspace.Kernel;
        Parallel.For(
            0,
            tiles,
            workspace.Parallel,
            workspace.RentScratch,
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (job, _, scratch) =>
            {
                // The widest row tiles of a triangle come last: start them first so the threads finish together.
                var tile = lowerOnly ? tiles - 1 - job : job;
                var r0 = tile * mc;
                var rows = Math.Min(mc, m - r0);
                var columns = lowerOnly ? Math.Min(n, r0 + rows) : n;
                var rowSlivers = (rows + mr - 1) / mr;
                var columnSlivers = (columns + nr - 1) / nr;
                fixed (float* packedA = scratch)
                {
                    var edge = packedA + ((nint)mc * kc);
                    for (var p0 = 0; p0 < k; p0 += kc)
                    {
                        var depth = Math.Min(kc, k - p0);
                        PackA(a, r0, rows, p0, depth, mr, packedA);
                        var layer = packedB + ((nint)p0 * paddedN);
                        for (var sliver = 0; sliver < columnSlivers; sliver++)
                        {
                            var j0 = sliver * nr;
                            var width = Math.Min(nr, n - j0);
                            var panelB = layer + ((nint)j0 * depth);
                            for (var t = 0; t < rowSlivers; t++)
                            {
                                var i0 = r0 + (t * mr);
                                var height = Math.Min(mr, m - i0);
                                if (lowerOnly && j0 > i0 + height - 1)
                                {
                                    continue;
                                }

                                Tile(kernel, depth, packedA + ((nint)t * depth * mr), panelB, c + (i0 * ldc) + j0, ldc, alpha, height, width, mr, nr, edge);
                            }
                        }
                    }
                }

                return scratch;
            },
            workspace.ReturnScratch);
    }

    // One mr × nr register tile; partial tiles at the matrix edges go through a scratch tile.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(DenseKernel kernel, int depth, float* a, float* b, float* c, nint ldc, float alpha, int height, int width, int mr, int nr, float* edge)
    {
        if (height == mr && width == nr)
        {
            RunKernel(kernel, depth, a, b, c, ldc, alpha);
            return;
        }

        new Span<float>(edge, mr * nr).Clear();
        RunKernel(kernel, depth, a, b, edge, nr, alpha);
        for (var i = 0; i < height; i++)
        {
            var from = new ReadOnlySpan<float>(edge + (i * nr), width);
            var to = new Span<float>(c + (i * ldc), width);
            TensorPrimitives.Add(to, from, to);
        }
    }

    private static void RunKernel(DenseKernel kernel, int depth, float* a, float* b, float* c, nint ldc, float alpha)
    {
        switch (kernel)
        {
            case DenseKernel.Vector512:
                Kernel8x32(depth, a, b, c, ldc, alpha);
                break;
            case DenseKernel.Vector256:
                Kernel6x16(depth, a, b, c, ldc, alpha);
                break;
            default:
                Kernel4x4(depth, a, b, c, ldc, alpha);
                break;
        }
    }

    // op(B) rows p0 .. p0+depth, columns j0 .. j0+width → depth × nr, zero-padded to nr columns.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(Operand b, int p0, int depth, int j0, int width, int nr, float* to)
    {
        if (!b.Transposed)
        {
            for (var p = 0; p < depth; p++)
            {
                var row = new Span<float>(to + (p * nr), nr);
                new ReadOnlySpan<float>(b.Data + ((p0 + p) * b.Stride) + j0, width).CopyTo(row);
                row[width..].Clear();
            }

            return;
        }

        if (width < nr)
        {
            new Span<float>(to, depth * nr).Clear();
        }

        for (var j = 0; j < width; j++)
        {
            var from = b.Data + ((j0 + j) * b.Stride) + p0;
            var column = to + j;
            for (var p = 0; p < depth; p++)
            {
                column[p * nr] = from[p];
            }
        }
    }

    // op(A) rows r0 .. r0+rows, columns p0 .. p0+depth → slivers of mr rows, each depth × mr, zero-padded rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(Operand a, int r0, int rows, int p0, int depth, int mr, float* to)
    {
        for (var t = 0; t * mr < rows; t++)
        {
            var sliver = to + ((nint)t * depth * mr);
            var height = Math.Min(mr, rows - (t * mr));
            var i0 = r0 + (t * mr);
            if (a.Transposed)
            {
                for (var p = 0; p < depth; p++)
                {
                    var row = new Span<float>(sliver + (p * mr), mr);
                    new ReadOnlySpan<float>(a.Data + ((p0 + p) * a.Stride) + i0, height).CopyTo(row);
                    row[height..].Clear();
                }

                continue;
            }

            if (height < mr)
            {
                new Span<float>(sliver, depth * mr).Clear();
            }

            for (var i = 0; i < height; i++)
            {
                var from = a.Data + ((i0 + i) * a.Stride) + p0;
                var column = sliver + i;
                for (var p = 0; p < depth; p++)
                {
                    column[p * mr] = from[p];
                }
            }
        }
    }

    // C[8 × 32] += alpha · Σ_p a[p, 0..8]ᵀ b[p, 0..32]: 16 zmm accumulators, 2 loads and 8 broadcasts per step.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int depth, float* a, float* b, float* c, nint ldc, float alpha)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (var p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
            b += 32;
        }

        var s = Vector512.Create(alpha);
        Update512(c, c00, c01, s);
        Update512(c + ldc, c10, c11, s);
        Update512(c + (2 * ldc), c20, c21, s);
        Update512(c + (3 * ldc), c30, c31, s);
        Update512(c + (4 * ldc), c40, c41, s);
        Update512(c + (5 * ldc), c50, c51, s);
        Update512(c + (6 * ldc), c60, c61, s);
        Update512(c + (7 * ldc), c70, c71, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update512(float* c, Vector512<float> low, Vector512<float> high, Vector512<float> alpha)
    {
        Vector512.FusedMultiplyAdd(low, alpha, Vector512.Load(c)).Store(c);
        Vector512.FusedMultiplyAdd(high, alpha, Vector512.Load(c + 16)).Store(c + 16);
    }

    // C[6 × 16] += alpha · Σ_p a[p, 0..6]ᵀ b[p, 0..16]: 12 ymm accumulators.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int depth, float* a, float* b, float* c, nint ldc, float alpha)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < depth; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6;
            b += 16;
        }

        var s = Vector256.Create(alpha);
        Update256(c, c00, c01, s);
        Update256(c + ldc, c10, c11, s);
        Update256(c + (2 * ldc), c20, c21, s);
        Update256(c + (3 * ldc), c30, c31, s);
        Update256(c + (4 * ldc), c40, c41, s);
        Update256(c + (5 * ldc), c50, c51, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update256(float* c, Vector256<float> low, Vector256<float> high, Vector256<float> alpha)
    {
        Vector256.FusedMultiplyAdd(low, alpha, Vector256.Load(c)).Store(c);
        Vector256.FusedMultiplyAdd(high, alpha, Vector256.Load(c + 8)).Store(c + 8);
    }

    // C[4 × 4] += alpha · Σ_p a[p, 0..4]ᵀ b[p, 0..4] without SIMD.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(int depth, float* a, float* b, float* c, nint ldc, float alpha)
    {
        var sums = stackalloc float[16];
        new Span<float>(sums, 16).Clear();
        for (var p = 0; p < depth; p++)
        {
            for (var i = 0; i < 4; i++)
            {
                var x = a[i];
                var row = sums + (i * 4);
                row[0] += x * b[0];
                row[1] += x * b[1];
                row[2] += x * b[2];
                row[3] += x * b[3];
            }

            a += 4;
            b += 4;
        }

        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                c[(i * ldc) + j] += alpha * sums[(i * 4) + j];
            }
        }
    }

    // A float buffer on the pinned object heap, so its address can be held across parallel loops.
    private static float* Pinned(long length, out float[] array)
    {
        array = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(1, length)), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
    }

    /// <summary>A row-major operand read as is or transposed: element (i, j) is Data[i · Stride + j], or Data[j · Stride + i].</summary>
    private readonly struct Operand(float* data, nint stride, bool transposed)
    {
        public float* Data { get; } = data;

        public nint Stride { get; } = stride;

        public bool Transposed { get; } = transposed;
    }

    /// <summary>Register-tile geometry, the packed op(B) buffer and a pool of per-thread packing buffers.</summary>
    private sealed class Workspace
    {
        private readonly ConcurrentBag<float[]> _scratch = [];
        private float[] _packedB = [];
        private float* _packedBData;

        public Workspace(DenseKernel kernel, int blockSize, int maxDegreeOfParallelism, CancellationToken cancellationToken)
        {
            Kernel = kernel;
            (Mr, Nr) = kernel switch
            {
                DenseKernel.Vector512 => (8, 32),
                DenseKernel.Vector256 => (6, 16),
                _ => (4, 4),
            };

            // 16 row slivers per tile: 128 × 256 floats = 128 KB of packed A, which stays in L2.
            Mc = 16 * Mr;
            BlockSize = blockSize;
            CancellationToken = cancellationToken;
            Parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken };
        }

        public DenseKernel Kernel { get; }

        public int Mr { get; }

        public int Nr { get; }

        public int Mc { get; }

        public int BlockSize { get; }

        public CancellationToken CancellationToken { get; }

        public ParallelOptions Parallel { get; }

        public float* PackedB(long length)
        {
            if (_packedB.Length < length)
            {
                _packedBData = Pinned(length, out _packedB);
            }

            return _packedBData;
        }

        public float[] RentScratch() =>
            _scratch.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<float>((Mc * BlockSize) + (Mr * Nr), pinned: true);

        public void ReturnScratch(float[] buffer) => _scratch.Add(buffer);
    }
}
