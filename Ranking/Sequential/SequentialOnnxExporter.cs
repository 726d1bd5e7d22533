namespace Ranking.Sequential;

/// <summary>
/// Writes a trained <see cref="SequentialModel"/> as an ONNX inference graph (opset 17, standard operators only), so
/// that ONNX Runtime can serve it on CPU or GPU.
/// </summary>
/// <remarks>
/// <para>Inputs, all int64 [batch, <see cref="SequentialOptions.MaxLength"/>], one column per token, the newest token
/// in the last column and the history left-padded (<see cref="InputNames"/> lists those a model needs, in order):</para>
/// <list type="bullet">
/// <item><see cref="ItemsInput"/>: the item index (≥ 0) of each token; <see cref="PaddingId"/> (−1, or any negative
/// value other than −2) pads; <see cref="NoItemId"/> (−2) is a real token without an item. A token's input vector is
/// √Width · its row of the item table (zero for a <see cref="NoItemId"/> token) + its learned position + its rows of
/// the tables below. Padded keys are masked out of attention; <see cref="NoItemId"/> tokens are attended.</item>
/// <item><see cref="TypesInput"/> (only with <see cref="SequentialOptions.UseActionTypes"/>): the action-type row of
/// each token's event (the event-type code + 1, 0 for unknown; 0 on padding), added unscaled.</item>
/// <item><see cref="GapsInput"/> (only with <see cref="SequentialOptions.UseTimeGaps"/>): the time-gap bucket of each
/// token (of the time since the previous item event; 0 for none and on padding), added unscaled.</item>
/// <item><see cref="SurfacesInput"/> (only with <see cref="SequentialOptions.UseSurfaces"/>): the surface row of each
/// token, added unscaled.</item>
/// <item><see cref="RolesInput"/> (only with <see cref="SequentialOptions.UseContext"/>): each token's role (0 an event,
/// 1 an anchor-item context, 2 a query context), added unscaled.</item>
/// <item><see cref="QueryVectorsInput"/> (float [batch, MaxLength, TextDimension], only for models with query tokens:
/// <see cref="SequentialOptions.UseSearchQueries"/>, or <see cref="SequentialOptions.UseContext"/> trained with a query
/// encoder): the text vector of each token without an item (zero for the others), projected by the learned query
/// projection and scaled by √Width.</item>
/// </list>
/// <para>The tokens are those the C# pass reads (<c>SequentialModel.LayOut</c>: item events, search queries and context
/// tokens as the options say, the last MaxLength kept, the request's context last, the newest on the last learned
/// position), so a padded row gives the state of the C# forward pass. A row of padding only gives a meaningless (finite) state.</para>
/// <para>With <see cref="SequentialOptions.UseContentFeatures"/> the item table is the model's effective one
/// (<see cref="SequentialModel.ItemEmbeddings"/>: id row, left out for items without a training event, plus category,
/// brand and price rows), for the input lookup and for the scores alike.</para>
/// <para>Outputs <see cref="StateOutput"/>: float [batch, Width], the final-norm output at the last position; and
/// <see cref="ScoresOutput"/>: float [batch, ItemCount], state · item table, −∞ for the items
/// <see cref="SequentialModel.Score(in Candidates.UserHistory, Span{float})"/> never recommends (no training event, and
/// with content features or text vectors not described by the catalogue either). Dropout is left out (inference).</para>
/// <para>Feedback heads (<see cref="SequentialOptions.OrderHeadWeight"/>, <see cref="SequentialOptions.FeedbackHeads"/>)
/// change neither the state nor the scores; a model with heads has a third output, <see cref="FeedbackOutput"/>: float
/// [batch, heads, ItemCount], each head's probability for every item (ONNX Runtime computes it only when asked for).</para>
/// </remarks>
public static class SequentialOnnxExporter
{
    /// <summary>Name of the input tensor of item ids.</summary>
    public const string ItemsInput = "items";

    /// <summary>Name of the input tensor of action-type rows (models with <see cref="SequentialOptions.UseActionTypes"/>).</summary>
    public const string TypesInput = "types";

    /// <summary>Name of the input tensor of time-gap buckets (models with <see cref="SequentialOptions.UseTimeGaps"/>).</summary>
    public const string GapsInput = "gaps";

    /// <summary>Name of the input tensor of surface rows (models with <see cref="SequentialOptions.UseSurfaces"/>).</summary>
    public const string SurfacesInput = "surfaces";

    /// <summary>Name of the input tensor of token roles (models with <see cref="SequentialOptions.UseContext"/>).</summary>
    public const string RolesInput = "roles";

    /// <summary>Name of the float [batch, MaxLength, TextDimension] input of query text vectors (models with query tokens).</summary>
    public const string QueryVectorsInput = "query_vectors";

    /// <summary>Name of the user-state output.</summary>
    public const string StateOutput = "state";

    /// <summary>Name of the feedback-head output (models with heads): float [batch, heads, ItemCount], P(type | state, item)
    /// per head in <see cref="SequentialModel.FeedbackHeadTypes"/> order.</summary>
    public const string FeedbackOutput = "feedback";

    /// <summary>Name of the all-items score output.</summary>
    public const string ScoresOutput = "scores";

    /// <summary>The id that pads a short history on the left.</summary>
    public const long PaddingId = -1;

    /// <summary>The id of a token without an item: attended, its item-embedding part zero.</summary>
    public const long NoItemId = -2;

    private const float Masked = -1e9f;

    /// <summary>Writes the ONNX model of <paramref name="model"/> to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentNullException">A null argument.</exception>
    public static void Export(SequentialModel model, Stream output)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Build(model, UntrainedItems(model)));
    }

    /// <summary>The graph's input names in order: <see cref="ItemsInput"/>, then one per token table of the model.</summary>
    internal static IReadOnlyList<string> InputNames(SequentialModel model) =>
        [ItemsInput, .. TokenTables(model.Layout).Select(table => table.Input), .. model.Layout.QueryProjection >= 0 ? [QueryVectorsInput] : Array.Empty<string>()];

    /// <summary>
    /// The additive per-token embedding tables of a layout, each fed by its own int64 input of row indices: its rows
    /// are gathered and added, unscaled, to the token vectors (as <c>SequentialNetwork.Forward</c> adds them).
    /// </summary>
    internal static IReadOnlyList<TokenTable> TokenTables(ParameterLayout layout)
    {
        var tables = new List<TokenTable>();
        if (layout.TypeTable >= 0)
        {
            tables.Add(new TokenTable(TypesInput, layout.TypeTable, SequentialOptions.ActionTypeRows, static t => t.Types));
        }

        if (layout.GapTable >= 0)
        {
            tables.Add(new TokenTable(GapsInput, layout.GapTable, SequentialOptions.TimeGapBuckets, static t => t.Gaps));
        }

        if (layout.SurfaceTable >= 0)
        {
            tables.Add(new TokenTable(SurfacesInput, layout.SurfaceTable, SequentialOptions.SurfaceRows, static t => t.Surfaces));
        }

        if (layout.RoleTable >= 0)
        {
            tables.Add(new TokenTable(RolesInput, layout.RoleTable, SequentialOptions.RoleRows, static t => t.Roles));
        }

        return tables;
    }

    /// <summary>
    /// Items the model never recommends (<see cref="SequentialModel.IsScored"/> false), which score −∞: those without a
    /// training event, unless content features are on and the catalogue describes them.
    /// </summary>
    internal static bool[] UntrainedItems(SequentialModel model)
    {
        var untrained = new bool[model.ItemCount];
        for (var i = 0; i < untrained.Length; i++)
        {
            untrained[i] = !model.IsScored(i);
        }

        return untrained;
    }

    internal static byte[] Build(SequentialModel model, ReadOnlySpan<bool> untrained)
    {
        var layout = model.Layout;
        // The effective weights: with content features the item table holds each item's full vector.
        var p = model.EffectiveParameters;
        var d = layout.Width;
        var f = layout.FeedForward;
        var length = layout.MaxLength;
        var heads = layout.Heads;
        var headWidth = d / heads;
        var g = new Graph();

        var table = g.Constant("item_table", p.AsSpan(layout.ItemTable, layout.Items * d), [layout.Items, d]);
        var positions = g.Constant("positions", p.AsSpan(layout.Positions, length * d), [length, d]);
        var zeroId = g.Constant<long>("zero_id", [0], []);
        var noItemId = g.Constant<long>("no_item_id", [NoItemId], []);
        var zero = g.Scalar("zero", 0f);
        var masked = g.Scalar("masked", Masked);

        // Padding looks up row 0 and is masked out of every real position's attention; a no-item token (-2) is attended
        // but its item part is scaled by 0 instead of √d.
        var hasItem = g.Node("GreaterOrEqual", [ItemsInput, zeroId]);
        var valid = g.Node("Or", [hasItem, g.Node("Equal", [ItemsInput, noItemId])]);
        var ids = g.Node("Where", [hasItem, ItemsInput, zeroId]);
        var embedded = g.Node("Gather", [table, ids], Graph.IntAttribute("axis", 0));
        var itemScale = g.Node("Unsqueeze", [g.Node("Where", [hasItem, g.Scalar("embedding_scale", MathF.Sqrt(d)), zero]), g.Constant<long>("axes_2", [2], [1])]);
        var x = g.Node("Add", [g.Node("Mul", [embedded, itemScale]), positions]);
        foreach (var tokenTable in TokenTables(layout))
        {
            var rows = g.Constant($"{tokenTable.Input}_table", p.AsSpan(tokenTable.Offset, tokenTable.Rows * d), [tokenTable.Rows, d]);
            x = g.Node("Add", [x, g.Node("Gather", [rows, tokenTable.Input], Graph.IntAttribute("axis", 0))]);
        }

        if (layout.QueryProjection >= 0)
        {
            // A token without an item reads √d · (its query's text vector · projection); item tokens carry zero vectors.
            var t = layout.TextDimension;
            var projection = g.Constant("query_projection", p.AsSpan(layout.QueryProjection, t * d), [t, d]);
            var projected = g.Node("MatMul", [QueryVectorsInput, projection]);
            x = g.Node("Add", [x, g.Node("Mul", [projected, g.Scalar("query_scale", MathF.Sqrt(d))])]);
        }

        var causal = new float[length * length];
        for (var i = 0; i < length; i++)
        {
            causal.AsSpan((i * length) + i + 1, length - i - 1).Fill(Masked);
        }

        var keyMask = g.Node("Unsqueeze", [g.Node("Where", [valid, zero, masked]), g.Constant<long>("axes_1_2", [1, 2], [2])]);
        var mask = g.Node("Add", [g.Constant("causal_mask", causal, [length, length]), keyMask]);

        var headShape = g.Constant<long>("head_shape", [0, 0, heads, headWidth], [4]);
        var mergedShape = g.Constant<long>("merged_shape", [0, 0, d], [3]);
        var split = g.Constant<long>("qkv_split", [d, d, d], [3]);
        var attentionScale = g.Scalar("attention_scale", 1f / MathF.Sqrt(headWidth));
        var half = g.Scalar("half", 0.5f);
        var one = g.Scalar("one", 1f);
        var cubic = g.Scalar("gelu_cubic", 0.044715f);
        var geluScale = g.Scalar("gelu_scale", MathF.Sqrt(2f / MathF.PI));
        for (var l = 0; l < layout.Blocks.Length; l++)
        {
            var b = layout.Blocks[l];
            string Weight(string name, int offset, params long[] dims)
            {
                var count = 1L;
                foreach (var dim in dims)
                {
                    count *= dim;
                }

                return g.Constant($"block{l}_{name}", p.AsSpan(offset, (int)count), dims);
            }

            var norm1 = g.LayerNorm(x, Weight("norm1_gain", b.Norm1Gain, d), Weight("norm1_bias", b.Norm1Bias, d));
            var qkv = g.Node("Add", [g.Node("MatMul", [norm1, Weight("qkv", b.Qkv, d, 3 * d)]), Weight("qkv_bias", b.QkvBias, 3 * d)]);
            var (q, k, v) = g.Split3(qkv, split);
            var qHeads = g.Node("Transpose", [g.Node("Reshape", [q, headShape])], Graph.IntsAttribute("perm", 0, 2, 1, 3));
            var kHeadsT = g.Node("Transpose", [g.Node("Reshape", [k, headShape])], Graph.IntsAttribute("perm", 0, 2, 3, 1));
            var vHeads = g.Node("Transpose", [g.Node("Reshape", [v, headShape])], Graph.IntsAttribute("perm", 0, 2, 1, 3));
            var logits = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [qHeads, kHeadsT]), attentionScale]), mask]);
            var weights = g.Node("Softmax", [logits], Graph.IntAttribute("axis", -1));
            var heads4 = g.Node("MatMul", [weights, vHeads]);
            var merged = g.Node("Reshape", [g.Node("Transpose", [heads4], Graph.IntsAttribute("perm", 0, 2, 1, 3)), mergedShape]);
            var projected = g.Node("Add", [g.Node("MatMul", [merged, Weight("output", b.Output, d, d)]), Weight("output_bias", b.OutputBias, d)]);
            var middle = g.Node("Add", [x, projected]);

            var norm2 = g.LayerNorm(middle, Weight("norm2_gain", b.Norm2Gain, d), Weight("norm2_bias", b.Norm2Bias, d));
            var up = g.Node("Add", [g.Node("MatMul", [norm2, Weight("up", b.Up, d, f)]), Weight("up_bias", b.UpBias, f)]);

            // GELU, tanh form, as the C# pass: 0.5 u (1 + tanh(√(2/π) (u + 0.044715 u³))).
            var cube = g.Node("Mul", [g.Node("Mul", [up, up]), up]);
            var inner = g.Node("Mul", [g.Node("Add", [up, g.Node("Mul", [cube, cubic])]), geluScale]);
            var gelu = g.Node("Mul", [g.Node("Mul", [up, half]), g.Node("Add", [g.Node("Tanh", [inner]), one])]);
            var down = g.Node("Add", [g.Node("MatMul", [gelu, Weight("down", b.Down, f, d)]), Weight("down_bias", b.DownBias, d)]);
            x = g.Node("Add", [middle, down]);
        }

        // The layer norm is per row, so only the last position needs it.
        var last = g.Node("Gather", [x, g.Constant<long>("last_position", [length - 1], [])], Graph.IntAttribute("axis", 1));
        g.LayerNorm(last, g.Constant("final_gain", p.AsSpan(layout.FinalGain, d), [d]), g.Constant("final_bias", p.AsSpan(layout.FinalBias, d), [d]), StateOutput);

        var bias = new float[layout.Items];
        for (var i = 0; i < bias.Length; i++)
        {
            bias[i] = untrained[i] ? float.NegativeInfinity : 0f;
        }

        g.Node("Gemm", [StateOutput, table, g.Constant("untrained_bias", bias, [layout.Items])], ScoresOutput, Graph.IntAttribute("transB", 1));

        // Feedback heads, every item at once: σ(((state ⊙ w_h) · e_i) + u_h · state + b_h), as SequentialNetwork.FeedbackLogit.
        var headCount = layout.FeedbackTypes.Length;
        List<SequentialOnnxProtobuf> outputs =
        [
            SequentialOnnxProtobuf.ValueInfo(StateOutput, SequentialOnnxProtobuf.ElementType<float>(), [null, d], "batch"),
            SequentialOnnxProtobuf.ValueInfo(ScoresOutput, SequentialOnnxProtobuf.ElementType<float>(), [null, layout.Items], "batch"),
        ];
        if (headCount > 0)
        {
            var w = new float[headCount * d];
            var uT = new float[d * headCount];
            var b0 = new float[headCount];
            for (var h = 0; h < headCount; h++)
            {
                p.AsSpan(layout.FeedbackWeights[h], d).CopyTo(w.AsSpan(h * d, d));
                for (var c = 0; c < d; c++)
                {
                    uT[(c * headCount) + h] = p[layout.FeedbackStateWeights[h] + c];
                }

                b0[h] = p[layout.FeedbackBiases[h]];
            }

            var weighted = g.Node("Mul", [g.Node("Unsqueeze", [StateOutput, g.Constant<long>("feedback_axes_1", [1], [1])]), g.Constant("feedback_weights", w, [headCount, d])]);
            var pair = g.Node("Einsum", [weighted, table], Graph.StringAttribute("equation", "bhd,nd->bhn"));
            var linear = g.Node("Add", [g.Node("MatMul", [StateOutput, g.Constant("feedback_state_weights", uT, [d, headCount])]), g.Constant("feedback_bias", b0, [headCount])]);
            g.Node("Sigmoid", [g.Node("Add", [pair, g.Node("Unsqueeze", [linear, g.Constant<long>("feedback_axes_2", [2], [1])])])], FeedbackOutput);
            outputs.Add(SequentialOnnxProtobuf.ValueInfo(FeedbackOutput, SequentialOnnxProtobuf.ElementType<float>(), [null, headCount, layout.Items], "batch"));
        }

        return g.ToModel(
            [.. InputNames(model).Select(name => name == QueryVectorsInput
                ? SequentialOnnxProtobuf.ValueInfo(name, SequentialOnnxProtobuf.ElementType<float>(), [null, length, layout.TextDimension], "batch")
                : SequentialOnnxProtobuf.ValueInfo(name, SequentialOnnxProtobuf.ElementType<long>(), [null, length], "batch"))],
            [.. outputs]);
    }

    /// <summary>Accumulates a GraphProto: nodes, initializers, inputs and outputs (protobuf allows any field order).</summary>
    private sealed class Graph
    {
        private readonly SequentialOnnxProtobuf _graph = new();
        private int _next;

        public static SequentialOnnxProtobuf IntAttribute(string name, long value) =>
            new SequentialOnnxProtobuf().String(1, name).Int(3, value).Int(20, 2);

        public static SequentialOnnxProtobuf StringAttribute(string name, string value) =>
            new SequentialOnnxProtobuf().String(1, name).String(4, value).Int(20, 3);

        public static SequentialOnnxProtobuf IntsAttribute(string name, params long[] values)
        {
            var attribute = new SequentialOnnxProtobuf().String(1, name);
            foreach (var value in values)
            {
                attribute.Int(8, value);
            }

            return attribute.Int(20, 7);
        }

        public string Constant<T>(string name, ReadOnlySpan<T> values, ReadOnlySpan<long> dims)
            where T : unmanaged
        {
            _graph.Message(5, SequentialOnnxProtobuf.Tensor(name, values, dims));
            return name;
        }

        public string Scalar(string name, float value) => Constant<float>(name, [value], []);

        public string Node(string op, string[] inputs, params SequentialOnnxProtobuf[] attributes) =>
            Node(op, inputs, $"t{_next++}", attributes);

        public string Node(string op, string[] inputs, string output, params SequentialOnnxProtobuf[] attributes)
        {
            var node = new SequentialOnnxProtobuf();
            foreach (var input in inputs)
            {
                node.String(1, input);
            }

            node.String(2, output).String(3, $"n{_next++}").String(4, op);
            foreach (var attribute in attributes)
            {
                node.Message(5, attribute);
            }

            _graph.Message(1, node);
            return output;
        }

        public (string Q, string K, string V) Split3(string input, string split)
        {
            var q = $"t{_next++}";
            var k = $"t{_next++}";
            var v = $"t{_next++}";
            var node = new SequentialOnnxProtobuf().String(1, input).String(1, split).String(2, q).String(2, k).String(2, v)
                .String(3, $"n{_next++}").String(4, "Split").Message(5, IntAttribute("axis", -1));
            _graph.Message(1, node);
            return (q, k, v);
        }

        public string LayerNorm(string input, string gain, string bias, string? output = null) =>
            Node(
                "LayerNormalization",
                [input, gain, bias],
                output ?? $"t{_next++}",
                IntAttribute("axis", -1),
                new SequentialOnnxProtobuf().String(1, "epsilon").Float(2, TransformerLayers.NormEpsilon).Int(20, 1));

        public byte[] ToModel(SequentialOnnxProtobuf[] inputs, SequentialOnnxProtobuf[] outputs)
        {
            _graph.String(2, "sequential");
            foreach (var input in inputs)
            {
                _graph.Message(11, input);
            }

            foreach (var output in outputs)
            {
                _graph.Message(12, output);
            }

            // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (default domain, 17).
            var model = new SequentialOnnxProtobuf()
                .Int(1, 8)
                .String(2, "Ranking.Sequential")
                .Message(7, _graph)
                .Message(8, new SequentialOnnxProtobuf().String(1, string.Empty).Int(2, 17));
            return model.WrittenSpan.ToArray();
        }
    }
}

/// <summary>An additive per-token embedding table of the ONNX graph: its input's name, its offset in the parameter
/// array and its number of rows (each <c>Width</c> floats).</summary>
internal readonly record struct TokenTable(string Input, int Offset, int Rows, Func<SequentialTokens, int[]> Column);
