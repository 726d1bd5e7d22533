using System.Numerics.Tensors;
using Ranking.Data;

namespace Ranking.Sequential;

/// <summary>Offsets of one transformer block's tensors in the flat parameter array.</summary>
internal readonly record struct BlockLayout(
    int Norm1Gain, int Norm1Bias, int Qkv, int QkvBias, int Output, int OutputBias,
    int Norm2Gain, int Norm2Bias, int Up, int UpBias, int Down, int DownBias);

/// <summary>
/// Where every tensor lives in the one flat parameter array (and, identically, in a gradient array): the item table
/// first (row i is item i, tied with the output layer), then positions, the blocks and the final norm.
/// </summary>
internal sealed class ParameterLayout
{
    public ParameterLayout(int items, SequentialOptions options, ItemContent? content = null, int textDimension = 0)
    {
        if (options.UseContentFeatures && content is null)
        {
            throw new ArgumentException("Content features need the items' content.", nameof(content));
        }

        Items = items;
        Width = options.Width;
        FeedForward = options.EffectiveFeedForwardWidth;
        MaxLength = options.MaxLength;
        Heads = options.Heads;
        var d = Width;
        var f = FeedForward;
        var offset = 0;
        var decayed = new List<(int, int, bool)>();

        int Take(int length, bool decay)
        {
            var start = offset;
            decayed.Add((start, length, decay));
            offset += length;
            return start;
        }

        ItemTable = Take(checked(items * d), decay: true);
        Positions = Take(MaxLength * d, decay: true);
        Blocks = new BlockLayout[options.Layers];
        for (var l = 0; l < Blocks.Length; l++)
        {
            Blocks[l] = new BlockLayout(
                Take(d, false), Take(d, false), Take(d * 3 * d, true), Take(3 * d, false), Take(d * d, true), Take(d, false),
                Take(d, false), Take(d, false), Take(d * f, true), Take(f, false), Take(f * d, true), Take(d, false));
        }

        FinalGain = Take(d, false);
        FinalBias = Take(d, false);

        // Optional tensors come last, so that a model without them has exactly the plain layout and initial weights.
        TypeTable = options.UseActionTypes ? Take(SequentialOptions.ActionTypeRows * d, true) : -1;
        GapTable = options.UseTimeGaps ? Take(SequentialOptions.TimeGapBuckets * d, true) : -1;
        // Feedback heads, each a weight vector (d) and a bias: with OrderHeadWeight alone, the layout of the P(order) head.
        var heads = options.AllFeedbackHeads;
        FeedbackTypes = new string[heads.Count];
        FeedbackWeights = new int[heads.Count];
        FeedbackBiases = new int[heads.Count];
        for (var h = 0; h < heads.Count; h++)
        {
            FeedbackTypes[h] = heads[h].EventType;
            FeedbackWeights[h] = Take(d, false);
            FeedbackBiases[h] = Take(1, false);
        }

        CategoryTable = options.UseContentFeatures ? Take(content!.CategoryRows * d, true) : -1;
        BrandTable = options.UseContentFeatures ? Take(content!.BrandRows * d, true) : -1;
        PriceTable = options.UseContentFeatures ? Take(SequentialOptions.PriceBuckets * d, true) : -1;
        CategoryRows = content?.CategoryRows ?? 0;
        BrandRows = content?.BrandRows ?? 0;

        // Each feedback head's linear term on the state (d), new in artifact version 4: last of all, so that the
        // layout before it is that of version 3 (an older artifact loads with these zero) and a model without heads
        // has none. Initialised to zero (Initialise clears), so a head starts as the bilinear one.
        FeedbackStateWeights = new int[heads.Count];
        for (var h = 0; h < heads.Count; h++)
        {
            FeedbackStateWeights[h] = Take(d, false);
        }

        // The inputs of artifact version 5, after everything older: surfaces, token roles, and the text projections
        // (textDimension × d each, row j the contribution of a text vector's component j).
        if ((options.UseTextVectors || options.UseSearchQueries) && textDimension <= 0)
        {
            throw new ArgumentException("Text vectors and search queries need the text vectors' dimension.", nameof(textDimension));
        }

        TextDimension = textDimension;
        SurfaceTable = options.UseSurfaces ? Take(SequentialOptions.SurfaceRows * d, true) : -1;
        RoleTable = options.UseContext ? Take(SequentialOptions.RoleRows * d, true) : -1;
        TextProjection = options.UseTextVectors ? Take(textDimension * d, true) : -1;
        QueryProjection = options.UsesExtraTokens && textDimension > 0 ? Take(textDimension * d, true) : -1;
        Total = offset;
        Ranges = [.. decayed];
    }

    public int Items { get; }

    public int Width { get; }

    public int FeedForward { get; }

    public int MaxLength { get; }

    public int Heads { get; }

    public int ItemTable { get; }

    public int Positions { get; }

    public BlockLayout[] Blocks { get; }

    public int FinalGain { get; }

    public int FinalBias { get; }

    /// <summary>Action-type table (<see cref="SequentialOptions.ActionTypeRows"/> × d), or -1 when off.</summary>
    public int TypeTable { get; }

    /// <summary>Time-gap table (<see cref="SequentialOptions.TimeGapBuckets"/> × d), or -1 when off.</summary>
    public int GapTable { get; }

    /// <summary>Event type of each feedback head (<see cref="SequentialOptions.AllFeedbackHeads"/>).</summary>
    public string[] FeedbackTypes { get; }

    /// <summary>Each feedback head's weight vector (d).</summary>
    public int[] FeedbackWeights { get; }

    /// <summary>Each feedback head's bias (1).</summary>
    public int[] FeedbackBiases { get; }

    /// <summary>Each feedback head's linear term on the state (d): the logit is w·(state ⊙ e_item) + u·state + b.</summary>
    public int[] FeedbackStateWeights { get; }

    /// <summary>Length of the feedback heads' state terms (heads × d), the parameters artifacts before version 4 lack.</summary>
    public int FeedbackStateLength => FeedbackStateWeights.Length * Width;

    /// <summary>The feedback head of an event type, or -1.</summary>
    public int FeedbackHeadOf(string eventType) => Array.IndexOf(FeedbackTypes, eventType);

    /// <summary>Category table (<see cref="CategoryRows"/> × d), or -1 without content features.</summary>
    public int CategoryTable { get; }

    /// <summary>Brand table (<see cref="BrandRows"/> × d), or -1 without content features.</summary>
    public int BrandTable { get; }

    /// <summary>Price-bucket table (<see cref="SequentialOptions.PriceBuckets"/> × d), or -1 without content features.</summary>
    public int PriceTable { get; }

    public int CategoryRows { get; }

    public int BrandRows { get; }

    /// <summary>Surface table (<see cref="SequentialOptions.SurfaceRows"/> × d), or -1.</summary>
    public int SurfaceTable { get; }

    /// <summary>Token-role table (<see cref="SequentialOptions.RoleRows"/> × d), or -1 without context.</summary>
    public int RoleTable { get; }

    /// <summary>Length of the text vectors the projections read; 0 without text.</summary>
    public int TextDimension { get; }

    /// <summary>Item text projection (<see cref="TextDimension"/> × d), or -1.</summary>
    public int TextProjection { get; }

    /// <summary>Query text projection (<see cref="TextDimension"/> × d), or -1 without query tokens.</summary>
    public int QueryProjection { get; }

    /// <summary>Length of the parameter array.</summary>
    public int Total { get; }

    /// <summary>Every tensor as (offset, length, takes weight decay).</summary>
    public (int Offset, int Length, bool Decay)[] Ranges { get; }

    /// <summary>Where the item table ends: everything after it is small and handled densely.</summary>
    public int ItemTableEnd => ItemTable + (Items * Width);

    /// <summary>Initial weights: N(0, 0.02) for matrices, embeddings and positions (the projections into the residual
    /// stream scaled by 1/√(2·layers), as in GPT-2), gains 1, biases 0.</summary>
    public void Initialise(Span<float> parameters, ulong seed)
    {
        var random = new SplitMix(seed);
        parameters.Clear();
        Gaussian(parameters.Slice(ItemTable, Items * Width), 0.02f, ref random);
        Gaussian(parameters.Slice(Positions, MaxLength * Width), 0.02f, ref random);
        var residual = 0.02f / MathF.Sqrt(2 * Blocks.Length);
        var d = Width;
        var f = FeedForward;
        foreach (var b in Blocks)
        {
            parameters.Slice(b.Norm1Gain, d).Fill(1f);
            parameters.Slice(b.Norm2Gain, d).Fill(1f);
            Gaussian(parameters.Slice(b.Qkv, d * 3 * d), 0.02f, ref random);
            Gaussian(parameters.Slice(b.Output, d * d), residual, ref random);
            Gaussian(parameters.Slice(b.Up, d * f), 0.02f, ref random);
            Gaussian(parameters.Slice(b.Down, f * d), residual, ref random);
        }

        parameters.Slice(FinalGain, d).Fill(1f);
        if (TypeTable >= 0)
        {
            Gaussian(parameters.Slice(TypeTable, SequentialOptions.ActionTypeRows * d), 0.02f, ref random);
        }

        if (GapTable >= 0)
        {
            Gaussian(parameters.Slice(GapTable, SequentialOptions.TimeGapBuckets * d), 0.02f, ref random);
        }

        if (CategoryTable >= 0)
        {
            Gaussian(parameters.Slice(CategoryTable, CategoryRows * d), 0.02f, ref random);
            Gaussian(parameters.Slice(BrandTable, BrandRows * d), 0.02f, ref random);
            Gaussian(parameters.Slice(PriceTable, SequentialOptions.PriceBuckets * d), 0.02f, ref random);
        }

        if (SurfaceTable >= 0)
        {
            Gaussian(parameters.Slice(SurfaceTable, SequentialOptions.SurfaceRows * d), 0.02f, ref random);
        }

        if (RoleTable >= 0)
        {
            Gaussian(parameters.Slice(RoleTable, SequentialOptions.RoleRows * d), 0.02f, ref random);
        }

        if (TextProjection >= 0)
        {
            Gaussian(parameters.Slice(TextProjection, TextDimension * d), 0.02f, ref random);
        }

        if (QueryProjection >= 0)
        {
            Gaussian(parameters.Slice(QueryProjection, TextDimension * d), 0.02f, ref random);
        }
    }

    /// <summary>The surface row of a surface code: the code itself (0 is "none"), or 0 when out of range.</summary>
    public static int SurfaceRow(byte code) => code < SequentialOptions.SurfaceRows ? code : 0;

    /// <summary>The action-type row of an event-type code: code + 1, or 0 ("unknown") when out of range.</summary>
    public static int TypeRow(byte code) => code + 1 < SequentialOptions.ActionTypeRows ? code + 1 : 0;

    /// <summary>The time-gap bucket of a gap in milliseconds: 0 for none (negative), else 1 + ⌊log4(1 + seconds)⌋, capped.</summary>
    public static int GapBucket(long gapMs)
    {
        if (gapMs < 0)
        {
            return 0;
        }

        var bucket = 1 + (int)Math.Floor(Math.Log(1.0 + (gapMs / 1000.0)) / Math.Log(4.0));
        return Math.Min(bucket, SequentialOptions.TimeGapBuckets - 1);
    }

    private static void Gaussian(Span<float> values, float deviation, ref SplitMix random)
    {
        // Box–Muller, two values per pair of uniforms.
        for (var k = 0; k < values.Length; k += 2)
        {
            var u1 = 1.0 - ((random.NextUInt64() >> 11) * (1.0 / (1UL << 53)));
            var u2 = (random.NextUInt64() >> 11) * (1.0 / (1UL << 53));
            var radius = deviation * Math.Sqrt(-2 * Math.Log(u1));
            values[k] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (k + 1 < values.Length)
            {
                values[k + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
            }
        }
    }
}

/// <summary>
/// Each item's content rows for <see cref="SequentialOptions.UseContentFeatures"/>: category, brand and price bucket,
/// row 0 "unknown" in each table. Computed from the training log's catalogue and stored with the model.
/// </summary>
internal sealed class ItemContent
{
    public ItemContent(int categoryRows, int brandRows, float[] priceEdges, int[] category, int[] brand, int[] price)
    {
        CategoryRows = categoryRows;
        BrandRows = brandRows;
        PriceEdges = priceEdges;
        Category = category;
        Brand = brand;
        Price = price;
    }

    public int CategoryRows { get; }

    public int BrandRows { get; }

    /// <summary>The nine inner decile edges of log(1 + price) over the catalogue's priced items (empty when none).</summary>
    public float[] PriceEdges { get; }

    public int[] Category { get; }

    public int[] Brand { get; }

    public int[] Price { get; }

    /// <summary>Whether the catalogue knows anything about the item.</summary>
    public bool Describes(int item) => Category[item] > 0 || Brand[item] > 0 || Price[item] > 0;

    public static ItemContent From(InteractionLog log)
    {
        var table = log.Items;
        var n = log.ItemCount;
        var logs = new List<float>();
        for (var i = 0; i < n; i++)
        {
            if (float.IsFinite(table.Price[i]) && table.Price[i] >= 0)
            {
                logs.Add(MathF.Log(1f + table.Price[i]));
            }
        }

        logs.Sort();
        var edges = logs.Count == 0 ? [] : new float[SequentialOptions.PriceBuckets - 2];
        for (var k = 0; k < edges.Length; k++)
        {
            edges[k] = logs[(k + 1) * logs.Count / (SequentialOptions.PriceBuckets - 1)];
        }

        var category = new int[n];
        var brand = new int[n];
        var price = new int[n];
        for (var i = 0; i < n; i++)
        {
            category[i] = table.CategoryIndex[i] + 1;
            brand[i] = table.BrandIndex[i] + 1;
            price[i] = PriceBucket(edges, table.Price[i]);
        }

        return new ItemContent(table.Categories.Count + 1, table.Brands.Count + 1, edges, category, brand, price);
    }

    /// <summary>0 for an unknown (or negative) price, else 1 + the number of edges at or below log(1 + price).</summary>
    public static int PriceBucket(float[] edges, float price)
    {
        if (!float.IsFinite(price) || price < 0 || edges.Length == 0)
        {
            return 0;
        }

        var value = MathF.Log(1f + price);
        var bucket = 1;
        foreach (var edge in edges)
        {
            bucket += value >= edge ? 1 : 0;
        }

        return bucket;
    }

    /// <summary>Checks the rows against the table sizes (for a loaded artifact).</summary>
    public bool IsConsistent(int items) =>
        Category.Length == items && Brand.Length == items && Price.Length == items && CategoryRows >= 1 && BrandRows >= 1
        && PriceEdges.Length is 0 or (SequentialOptions.PriceBuckets - 2)
        && Category.All(c => c >= 0 && c < CategoryRows) && Brand.All(b => b >= 0 && b < BrandRows)
        && Price.All(b => b is >= 0 and < SequentialOptions.PriceBuckets);
}

/// <summary>Activations and gradient scratch for one sequence of up to MaxLength positions; reused, never shared.</summary>
internal sealed class Workspace
{
    public Workspace(ParameterLayout layout, int logitColumns, int negatives)
    {
        var l = layout.MaxLength;
        var d = layout.Width;
        var f = layout.FeedForward;
        var blocks = layout.Blocks.Length;
        Tokens = new SequentialTokens(l + 1);
        Targets = new int[l];
        QueryVectors = new float[l * Math.Max(layout.TextDimension, 0)];
        QueryRows = layout.QueryProjection >= 0 ? new float[l * d] : [];
        FeedbackLabels = new float[layout.FeedbackTypes.Length][];
        for (var h = 0; h < FeedbackLabels.Length; h++)
        {
            FeedbackLabels[h] = new float[l];
        }

        FeedbackScratch = new float[d];
        Stream = new float[blocks + 1][];
        for (var b = 0; b <= blocks; b++)
        {
            Stream[b] = new float[l * d];
        }

        InputMask = new float[l * d];
        Norm1 = Rows(blocks, l * d);
        Mean1 = Rows(blocks, l);
        Rstd1 = Rows(blocks, l);
        Qkv = Rows(blocks, l * 3 * d);
        Probs = Rows(blocks, layout.Heads * l * l);
        Attention = Rows(blocks, l * d);
        Projection = Rows(blocks, l * d);
        Mask1 = Rows(blocks, l * d);
        Middle = Rows(blocks, l * d);
        Norm2 = Rows(blocks, l * d);
        Mean2 = Rows(blocks, l);
        Rstd2 = Rows(blocks, l);
        Up = Rows(blocks, l * f);
        Activation = Rows(blocks, l * f);
        Down = Rows(blocks, l * d);
        Mask2 = Rows(blocks, l * d);
        State = new float[l * d];
        MeanFinal = new float[l];
        RstdFinal = new float[l];
        Logits = new float[l * logitColumns];
        NegativeIds = new int[negatives];
        NegativeLogQ = new float[negatives];
        Negatives = new float[negatives * d];
        NegativesTransposed = new float[negatives * d];
        DNegatives = new float[negatives * d];
        DState = new float[l * d];
        DStream = new float[l * d];
        DBranch = new float[l * d];
        DNorm = new float[l * d];
        DAttention = new float[l * d];
        DQkv = new float[l * 3 * d];
        DUp = new float[l * f];
        DActivation = new float[l * f];
        AttentionScratch = new float[l];
        WeightScratch = new float[Math.Max(3 * d * d, d * f)];
    }

    /// <summary>The positions' tokens (one spare slot: a layout may hold the request's context token too).</summary>
    public SequentialTokens Tokens { get; }

    /// <summary>Item id per position, or <see cref="SequentialTokens.NoItem"/> for a query token.</summary>
    public int[] Ids => Tokens.Ids;

    public int[] Targets { get; }

    /// <summary>Action-type row per position (read only when the layout has a type table).</summary>
    public int[] Types => Tokens.Types;

    /// <summary>Time-gap bucket per position (read only when the layout has a gap table).</summary>
    public int[] Gaps => Tokens.Gaps;

    /// <summary>Surface row per position (read only when the layout has a surface table).</summary>
    public int[] Surfaces => Tokens.Surfaces;

    /// <summary>Token role per position (read only when the layout has a role table).</summary>
    public int[] Roles => Tokens.Roles;

    /// <summary>Per position, the text vector of a token without an item (TextDimension floats at t · TextDimension).</summary>
    public float[] QueryVectors { get; }

    /// <summary>Per position, the projected query vector of a token without an item (d floats).</summary>
    public float[] QueryRows { get; }

    /// <summary>Per feedback head: 1 where the target event of a position has the head's type, else 0.</summary>
    public float[][] FeedbackLabels { get; }

    public float[] FeedbackScratch { get; }

    /// <summary>Stream[b] is the input of block b; Stream[blocks] feeds the final norm.</summary>
    public float[][] Stream { get; }

    public float[] InputMask { get; }

    public float[][] Norm1 { get; }

    public float[][] Mean1 { get; }

    public float[][] Rstd1 { get; }

    public float[][] Qkv { get; }

    public float[][] Probs { get; }

    public float[][] Attention { get; }

    public float[][] Projection { get; }

    public float[][] Mask1 { get; }

    public float[][] Middle { get; }

    public float[][] Norm2 { get; }

    public float[][] Mean2 { get; }

    public float[][] Rstd2 { get; }

    public float[][] Up { get; }

    public float[][] Activation { get; }

    public float[][] Down { get; }

    public float[][] Mask2 { get; }

    public float[] State { get; }

    public float[] MeanFinal { get; }

    public float[] RstdFinal { get; }

    public float[] Logits { get; }

    public int[] NegativeIds { get; }

    public float[] NegativeLogQ { get; }

    public float[] Negatives { get; }

    public float[] NegativesTransposed { get; }

    public float[] DNegatives { get; }

    public float[] DState { get; }

    public float[] DStream { get; }

    public float[] DBranch { get; }

    public float[] DNorm { get; }

    public float[] DAttention { get; }

    public float[] DQkv { get; }

    public float[] DUp { get; }

    public float[] DActivation { get; }

    public float[] AttentionScratch { get; }

    /// <summary>A transposed weight matrix for the backward pass.</summary>
    public float[] WeightScratch { get; }

    private static float[][] Rows(int count, int length)
    {
        var rows = new float[count][];
        for (var i = 0; i < count; i++)
        {
            rows[i] = new float[length];
        }

        return rows;
    }
}

/// <summary>
/// The causal transformer over one sequence: forward (training with dropout, or inference), the next-item loss
/// (sampled or full softmax) and the backward pass into a gradient array laid out like the parameters.
/// </summary>
internal static class SequentialNetwork
{
    /// <summary>
    /// Runs the blocks over <c>w.Ids[..rows]</c>, right-aligned on the learned positions (the most recent item always
    /// takes the last position, as SASRec's left padding does). With <paramref name="dropout"/> &gt; 0 the masks are
    /// drawn from <paramref name="random"/>; otherwise they are ones. The final-norm output lands in <c>w.State</c>.
    /// </summary>
    public static void Forward(ParameterLayout layout, ReadOnlySpan<float> p, Workspace w, int rows, float dropout, ref SplitMix random)
    {
        var d = layout.Width;
        var f = layout.FeedForward;
        var n = rows * d;
        var positionOffset = layout.MaxLength - rows;
        var scale = MathF.Sqrt(d);
        if (layout.QueryProjection < 0)
        {
            TransformerLayers.EmbeddingForward(w.Ids.AsSpan(0, rows), p[layout.ItemTable..], p[layout.Positions..], positionOffset, scale, w.Stream[0], d);
        }
        else
        {
            // A token without an item reads its query's projected text vector where an item token reads its row.
            var t = layout.TextDimension;
            for (var k = 0; k < rows; k++)
            {
                ReadOnlySpan<float> row;
                if (w.Ids[k] >= 0)
                {
                    row = p.Slice(layout.ItemTable + (w.Ids[k] * d), d);
                }
                else
                {
                    var projected = w.QueryRows.AsSpan(k * d, d);
                    MatrixKernels.Multiply(w.QueryVectors.AsSpan(k * t, t), p.Slice(layout.QueryProjection, t * d), projected, 1, t, d, accumulate: false);
                    row = projected;
                }

                TensorPrimitives.MultiplyAdd(row, scale, p.Slice(layout.Positions + ((positionOffset + k) * d), d), w.Stream[0].AsSpan(k * d, d));
            }
        }

        AddRows(layout.TypeTable, w.Types, p, w.Stream[0], rows, d);
        AddRows(layout.GapTable, w.Gaps, p, w.Stream[0], rows, d);
        AddRows(layout.SurfaceTable, w.Surfaces, p, w.Stream[0], rows, d);
        AddRows(layout.RoleTable, w.Roles, p, w.Stream[0], rows, d);
        ApplyDropout(w.Stream[0].AsSpan(0, n), w.InputMask.AsSpan(0, n), dropout, ref random);
        for (var l = 0; l < layout.Blocks.Length; l++)
        {
            var b = layout.Blocks[l];
            var x = w.Stream[l].AsSpan(0, n);
            TransformerLayers.LayerNormForward(x, p.Slice(b.Norm1Gain, d), p.Slice(b.Norm1Bias, d), w.Norm1[l], w.Mean1[l], w.Rstd1[l], rows, d);
            TransformerLayers.LinearForward(w.Norm1[l], p.Slice(b.Qkv, d * 3 * d), p.Slice(b.QkvBias, 3 * d), w.Qkv[l], rows, d, 3 * d);
            TransformerLayers.AttentionForward(w.Qkv[l], w.Probs[l], w.Attention[l], rows, d, layout.Heads);
            TransformerLayers.LinearForward(w.Attention[l], p.Slice(b.Output, d * d), p.Slice(b.OutputBias, d), w.Projection[l], rows, d, d);
            ApplyDropout(w.Projection[l].AsSpan(0, n), w.Mask1[l].AsSpan(0, n), dropout, ref random);
            TensorPrimitives.Add(x, w.Projection[l].AsSpan(0, n), w.Middle[l].AsSpan(0, n));
            TransformerLayers.LayerNormForward(w.Middle[l], p.Slice(b.Norm2Gain, d), p.Slice(b.Norm2Bias, d), w.Norm2[l], w.Mean2[l], w.Rstd2[l], rows, d);
            TransformerLayers.LinearForward(w.Norm2[l], p.Slice(b.Up, d * f), p.Slice(b.UpBias, f), w.Up[l], rows, d, f);
            TransformerLayers.GeluForward(w.Up[l].AsSpan(0, rows * f), w.Activation[l]);
            TransformerLayers.LinearForward(w.Activation[l], p.Slice(b.Down, f * d), p.Slice(b.DownBias, d), w.Down[l], rows, f, d);
            ApplyDropout(w.Down[l].AsSpan(0, n), w.Mask2[l].AsSpan(0, n), dropout, ref random);
            TensorPrimitives.Add(w.Middle[l].AsSpan(0, n), w.Down[l].AsSpan(0, n), w.Stream[l + 1].AsSpan(0, n));
        }

        TransformerLayers.LayerNormForward(
            w.Stream[layout.Blocks.Length], p.Slice(layout.FinalGain, d), p.Slice(layout.FinalBias, d), w.State, w.MeanFinal, w.RstdFinal, rows, d);
    }

    /// <summary>
    /// Sampled-softmax loss of the targets <c>w.Targets[..rows]</c> against the negatives in <c>w.NegativeIds</c> (with
    /// their log Q in <c>w.NegativeLogQ</c>; a negative equal to the target is masked). Writes dLoss/dState into
    /// <c>w.DState</c> and adds the item-table gradient of the output side into <paramref name="gradient"/>, every
    /// position weighted by <paramref name="weight"/>. Returns the unweighted summed cross-entropy.
    /// </summary>
    public static double SampledLoss(
        ParameterLayout layout, ReadOnlySpan<float> p, Workspace w, int rows, int negatives, ReadOnlySpan<float> logQ, float weight, Span<float> gradient)
    {
        var d = layout.Width;
        var table = p.Slice(layout.ItemTable, layout.Items * d);
        var dTable = gradient.Slice(layout.ItemTable, layout.Items * d);
        var neg = w.Negatives.AsSpan(0, negatives * d);
        var negT = w.NegativesTransposed.AsSpan(0, negatives * d);
        for (var j = 0; j < negatives; j++)
        {
            var row = table.Slice(w.NegativeIds[j] * d, d);
            row.CopyTo(neg.Slice(j * d, d));
            for (var c = 0; c < d; c++)
            {
                negT[(c * negatives) + j] = row[c];
            }
        }

        var state = w.State.AsSpan(0, rows * d);
        var logits = w.Logits.AsSpan(0, rows * negatives);
        MatrixKernels.Multiply(state, negT, logits, rows, d, negatives, accumulate: false);
        var dState = w.DState.AsSpan(0, rows * d);
        var loss = 0.0;
        for (var t = 0; t < rows; t++)
        {
            var target = w.Targets[t];
            var s = state.Slice(t * d, d);
            var targetRow = table.Slice(target * d, d);
            var positive = TensorPrimitives.Dot(s, targetRow) - (logQ.IsEmpty ? 0f : logQ[target]);
            var row = logits.Slice(t * negatives, negatives);
            var max = positive;
            for (var j = 0; j < negatives; j++)
            {
                row[j] = w.NegativeIds[j] == target ? float.NegativeInfinity : row[j] - w.NegativeLogQ[j];
                max = MathF.Max(max, row[j]);
            }

            var ePositive = MathF.Exp(positive - max);
            var sum = ePositive;
            for (var j = 0; j < negatives; j++)
            {
                row[j] = MathF.Exp(row[j] - max);
                sum += row[j];
            }

            loss += Math.Log(sum) + max - positive;
            var inverse = weight / sum;
            TensorPrimitives.Multiply(row, inverse, row);
            var dPositive = (ePositive * inverse) - weight;
            TensorPrimitives.Multiply(targetRow, dPositive, dState.Slice(t * d, d));
            var dTarget = dTable.Slice(target * d, d);
            TensorPrimitives.MultiplyAdd(s, dPositive, dTarget, dTarget);
        }

        // logits now hold dLoss/dlogit of the negatives.
        MatrixKernels.Multiply(logits, neg, dState, rows, negatives, d, accumulate: true);
        var dNeg = w.DNegatives.AsSpan(0, negatives * d);
        MatrixKernels.MultiplyTransposedA(logits, state, dNeg, negatives, rows, d, accumulate: false);
        for (var j = 0; j < negatives; j++)
        {
            var target = dTable.Slice(w.NegativeIds[j] * d, d);
            TensorPrimitives.Add(target, dNeg.Slice(j * d, d), target);
        }

        return loss;
    }

    /// <summary>
    /// Full-softmax loss over every item, with the item table given transposed (d × items, shared read-only by all
    /// sequences of a step). Same outputs as <see cref="SampledLoss"/>; the whole item table receives gradient.
    /// </summary>
    public static double FullLoss(ParameterLayout layout, ReadOnlySpan<float> p, ReadOnlySpan<float> tableTransposed, Workspace w, int rows, float weight, Span<float> gradient)
    {
        var d = layout.Width;
        var items = layout.Items;
        var table = p.Slice(layout.ItemTable, items * d);
        var state = w.State.AsSpan(0, rows * d);
        var logits = w.Logits.AsSpan(0, rows * items);
        MatrixKernels.Multiply(state, tableTransposed, logits, rows, d, items, accumulate: false);
        var loss = 0.0;
        for (var t = 0; t < rows; t++)
        {
            var row = logits.Slice(t * items, items);
            var target = w.Targets[t];
            var max = TensorPrimitives.Max(row);
            var positive = row[target];
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            var sum = TensorPrimitives.Sum(row);
            loss += Math.Log(sum) + max - positive;
            TensorPrimitives.Multiply(row, weight / sum, row);
            row[target] -= weight;
        }

        MatrixKernels.Multiply(logits, table, w.DState, rows, items, d, accumulate: false);
        MatrixKernels.MultiplyTransposedA(logits, state, gradient.Slice(layout.ItemTable, items * d), items, rows, d, accumulate: true);
        return loss;
    }

    /// <summary>Back-propagates <c>w.DState</c> through the network of the last <see cref="Forward"/>, adding into
    /// <paramref name="gradient"/>.</summary>
    public static void Backward(ParameterLayout layout, ReadOnlySpan<float> p, Workspace w, int rows, Span<float> gradient)
    {
        var d = layout.Width;
        var f = layout.FeedForward;
        var n = rows * d;
        var blocks = layout.Blocks.Length;
        var dStream = w.DStream.AsSpan(0, n);
        dStream.Clear();
        TransformerLayers.LayerNormBackward(
            w.DState, w.Stream[blocks], w.MeanFinal, w.RstdFinal, p.Slice(layout.FinalGain, d),
            dStream, gradient.Slice(layout.FinalGain, d), gradient.Slice(layout.FinalBias, d), rows, d);
        var dBranch = w.DBranch.AsSpan(0, n);
        for (var l = blocks - 1; l >= 0; l--)
        {
            var b = layout.Blocks[l];

            // out = middle + dropout(FFN(LN2(middle))); dStream holds dOut and becomes dMiddle.
            TensorPrimitives.Multiply(dStream, w.Mask2[l].AsSpan(0, n), dBranch);
            TransformerLayers.LinearBackward(
                dBranch, w.Activation[l], p.Slice(b.Down, f * d), w.DActivation, gradient.Slice(b.Down, f * d), gradient.Slice(b.DownBias, d),
                w.WeightScratch, rows, f, d, accumulateDx: false);
            TransformerLayers.GeluBackward(w.DActivation.AsSpan(0, rows * f), w.Up[l], w.DUp);
            TransformerLayers.LinearBackward(
                w.DUp, w.Norm2[l], p.Slice(b.Up, d * f), w.DNorm, gradient.Slice(b.Up, d * f), gradient.Slice(b.UpBias, f),
                w.WeightScratch, rows, d, f, accumulateDx: false);
            TransformerLayers.LayerNormBackward(
                w.DNorm, w.Middle[l], w.Mean2[l], w.Rstd2[l], p.Slice(b.Norm2Gain, d),
                dStream, gradient.Slice(b.Norm2Gain, d), gradient.Slice(b.Norm2Bias, d), rows, d);

            // middle = in + dropout(Attention(LN1(in))); dStream becomes dIn.
            TensorPrimitives.Multiply(dStream, w.Mask1[l].AsSpan(0, n), dBranch);
            TransformerLayers.LinearBackward(
                dBranch, w.Attention[l], p.Slice(b.Output, d * d), w.DAttention, gradient.Slice(b.Output, d * d), gradient.Slice(b.OutputBias, d),
                w.WeightScratch, rows, d, d, accumulateDx: false);
            TransformerLayers.AttentionBackward(w.DAttention, w.Qkv[l], w.Probs[l], w.DQkv, w.AttentionScratch, rows, d, layout.Heads);
            TransformerLayers.LinearBackward(
                w.DQkv, w.Norm1[l], p.Slice(b.Qkv, d * 3 * d), w.DNorm, gradient.Slice(b.Qkv, d * 3 * d), gradient.Slice(b.QkvBias, 3 * d),
                w.WeightScratch, rows, d, 3 * d, accumulateDx: false);
            TransformerLayers.LayerNormBackward(
                w.DNorm, w.Stream[l], w.Mean1[l], w.Rstd1[l], p.Slice(b.Norm1Gain, d),
                dStream, gradient.Slice(b.Norm1Gain, d), gradient.Slice(b.Norm1Bias, d), rows, d);
        }

        TensorPrimitives.Multiply(dStream, w.InputMask.AsSpan(0, n), dStream);
        ScatterRows(layout.TypeTable, w.Types, dStream, gradient, rows, d);
        ScatterRows(layout.GapTable, w.Gaps, dStream, gradient, rows, d);
        ScatterRows(layout.SurfaceTable, w.Surfaces, dStream, gradient, rows, d);
        ScatterRows(layout.RoleTable, w.Roles, dStream, gradient, rows, d);
        if (layout.QueryProjection < 0)
        {
            TransformerLayers.EmbeddingBackward(
                w.Ids.AsSpan(0, rows), dStream, layout.MaxLength - rows, MathF.Sqrt(d), gradient[layout.ItemTable..], gradient[layout.Positions..], d);
            return;
        }

        var scale = MathF.Sqrt(d);
        var t = layout.TextDimension;
        var offset = layout.MaxLength - rows;
        for (var k = 0; k < rows; k++)
        {
            var dy = dStream.Slice(k * d, d);
            var position = gradient.Slice(layout.Positions + ((offset + k) * d), d);
            TensorPrimitives.Add(position, dy, position);
            if (w.Ids[k] >= 0)
            {
                var target = gradient.Slice(layout.ItemTable + (w.Ids[k] * d), d);
                TensorPrimitives.MultiplyAdd(dy, scale, target, target);
                continue;
            }

            // d(projection)[j, :] += scale · q_j · dy.
            var q = w.QueryVectors.AsSpan(k * t, t);
            for (var j = 0; j < t; j++)
            {
                if (q[j] != 0)
                {
                    var target = gradient.Slice(layout.QueryProjection + (j * d), d);
                    TensorPrimitives.MultiplyAdd(dy, scale * q[j], target, target);
                }
            }
        }
    }

    /// <summary>
    /// Feedback head <paramref name="h"/>'s binary cross-entropy at every position: logit w·(state_t ⊙ e_target) + u·state_t + b
    /// against <c>w.FeedbackLabels[h]</c>. Adds into <c>w.DState</c> (so call it after the next-item loss) and into the
    /// item-table and head gradients, every position weighted by <paramref name="weight"/> · <paramref name="headWeight"/>.
    /// Returns the summed cross-entropy times <paramref name="headWeight"/>.
    /// </summary>
    public static double FeedbackLoss(
        ParameterLayout layout, ReadOnlySpan<float> p, Workspace w, int rows, int h, float headWeight, float weight, Span<float> gradient)
    {
        var d = layout.Width;
        var head = p.Slice(layout.FeedbackWeights[h], d);
        var biasAt = layout.FeedbackBiases[h];
        var bias = p[biasAt];
        var labels = w.FeedbackLabels[h];
        var dHead = gradient.Slice(layout.FeedbackWeights[h], d);
        var stateHead = p.Slice(layout.FeedbackStateWeights[h], d);
        var dStateHead = gradient.Slice(layout.FeedbackStateWeights[h], d);
        var scratch = w.FeedbackScratch.AsSpan(0, d);
        var loss = 0.0;
        for (var t = 0; t < rows; t++)
        {
            var s = w.State.AsSpan(t * d, d);
            var e = p.Slice(layout.ItemTable + (w.Targets[t] * d), d);
            TensorPrimitives.Multiply(s, e, scratch);
            var z = TensorPrimitives.Dot(scratch, head) + TensorPrimitives.Dot(s, stateHead) + bias;
            var y = labels[t];

            // softplus(z) − y·z, computed stably.
            loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - (y * z);
            var g = weight * headWeight * (Sigmoid(z) - y);
            TensorPrimitives.MultiplyAdd(scratch, g, dHead, dHead);
            gradient[biasAt] += g;
            TensorPrimitives.Multiply(head, e, scratch);
            var dState = w.DState.AsSpan(t * d, d);
            TensorPrimitives.MultiplyAdd(scratch, g, dState, dState);
            TensorPrimitives.MultiplyAdd(stateHead, g, dState, dState);
            TensorPrimitives.MultiplyAdd(s, g, dStateHead, dStateHead);
            TensorPrimitives.Multiply(head, s, scratch);
            var dItem = gradient.Slice(layout.ItemTable + (w.Targets[t] * d), d);
            TensorPrimitives.MultiplyAdd(scratch, g, dItem, dItem);
        }

        return loss * headWeight;
    }

    /// <summary>Feedback head <paramref name="h"/>'s logit w·(state ⊙ e_item) + b + u·state for a user state and an item.</summary>
    public static float FeedbackLogit(ParameterLayout layout, ReadOnlySpan<float> p, ReadOnlySpan<float> state, int item, int h)
    {
        var d = layout.Width;
        var e = p.Slice(layout.ItemTable + (item * d), d);
        var head = p.Slice(layout.FeedbackWeights[h], d);
        var stateHead = p.Slice(layout.FeedbackStateWeights[h], d);
        var z = p[layout.FeedbackBiases[h]];
        for (var c = 0; c < d; c++)
        {
            z += state[c] * e[c] * head[c];
        }

        // Added last, so that with u = 0 (an artifact before version 4) the logit is exactly the bilinear one.
        var linear = 0f;
        for (var c = 0; c < d; c++)
        {
            linear += state[c] * stateHead[c];
        }

        return z + linear;
    }

    public static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));

    private static void AddRows(int offset, int[] rowsOf, ReadOnlySpan<float> p, Span<float> y, int rows, int d)
    {
        if (offset < 0)
        {
            return;
        }

        for (var t = 0; t < rows; t++)
        {
            var target = y.Slice(t * d, d);
            TensorPrimitives.Add(target, p.Slice(offset + (rowsOf[t] * d), d), target);
        }
    }

    private static void ScatterRows(int offset, int[] rowsOf, ReadOnlySpan<float> dy, Span<float> gradient, int rows, int d)
    {
        if (offset < 0)
        {
            return;
        }

        for (var t = 0; t < rows; t++)
        {
            var target = gradient.Slice(offset + (rowsOf[t] * d), d);
            TensorPrimitives.Add(target, dy.Slice(t * d, d), target);
        }
    }

    private static void ApplyDropout(Span<float> values, Span<float> mask, float dropout, ref SplitMix random)
    {
        TransformerLayers.DropoutMask(mask, dropout, ref random);
        if (dropout > 0)
        {
            TensorPrimitives.Multiply(values, mask, values);
        }
    }
}
