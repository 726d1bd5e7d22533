namespace Ranking.Sequential;

/// <summary>
/// Writes a trained <see cref="SequentialModel"/> as an ONNX inference graph (opset 17, standard operators only), so
/// that ONNX Runtime can serve it on CPU or GPU.
/// </summary>
/// <remarks>
/// <para>Input <see cref="ItemsInput"/>: int64 [batch, <see cref="SequentialOptions.MaxLength"/>], the newest item in
/// the last column and the history left-padded with <see cref="PaddingId"/> (any negative value is padding). This is
/// how <see cref="SequentialModel.TryComputeState"/> reads a history: searches dropped, the last MaxLength items kept,
/// the newest on the last learned position. Padded keys are masked out of attention, so a padded row gives the state
/// the C# forward pass gives for the unpadded items. A row of padding only gives a meaningless (finite) state.</para>
/// <para>Outputs <see cref="StateOutput"/>: float [batch, Width], the final-norm output at the last position; and
/// <see cref="ScoresOutput"/>: float [batch, ItemCount], state · item table, −∞ for items without a training event
/// (as <see cref="SequentialModel.Score(in Candidates.UserHistory, Span{float})"/>). Dropout is left out (inference).</para>
/// <para>Feedback heads (<see cref="SequentialOptions.OrderHeadWeight"/>, <see cref="SequentialOptions.FeedbackHeads"/>)
/// change neither the state nor the scores, so a model with them exports the same scoring graph and the heads are
/// left out; serve them with <see cref="SequentialModel.PredictFeedback"/>.</para>
/// </remarks>
public static class SequentialOnnxExporter
{
    /// <summary>Name of the input tensor of item ids.</summary>
    public const string ItemsInput = "items";

    /// <summary>Name of the user-state output.</summary>
    public const string StateOutput = "state";

    /// <summary>Name of the all-items score output.</summary>
    public const string ScoresOutput = "scores";

    /// <summary>The id that pads a short history on the left.</summary>
    public const long PaddingId = -1;

    private const float Masked = -1e9f;

    /// <summary>Writes the ONNX model of <paramref name="model"/> to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentNullException">A null argument.</exception>
    public static void Export(SequentialModel model, Stream output)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(output);
        _ = model.Options.UseActionTypes || model.Options.UseTimeGaps || model.Options.UseContentFeatures
            ? throw new NotSupportedException("The ONNX graph has no action-type, time-gap or content inputs.")
            : 0;
        output.Write(Build(model, UntrainedItems(model)));
    }

    /// <summary>
    /// Items that never occurred in training, which the model scores −∞. Read through the public scoring path: with
    /// any history, exactly those items come back −∞ (every other score is a finite dot product).
    /// </summary>
    internal static bool[] UntrainedItems(SequentialModel model)
    {
        var untrained = new bool[model.ItemCount];
        if (model.ItemCount == 0)
        {
            return untrained;
        }

        var scores = new float[model.ItemCount];
        model.Score(new Candidates.UserHistory(-1, new[] { 0 }, new float[1], new long[1]), scores);
        for (var i = 0; i < scores.Length; i++)
        {
            untrained[i] = float.IsNegativeInfinity(scores[i]);
        }

        return untrained;
    }

    internal static byte[] Build(SequentialModel model, ReadOnlySpan<bool> untrained)
    {
        var layout = model.Layout;
        var p = model.ParameterArray;
        var d = layout.Width;
        var f = layout.FeedForward;
        var length = layout.MaxLength;
        var heads = layout.Heads;
        var headWidth = d / heads;
        var g = new Graph();

        var table = g.Constant("item_table", p.AsSpan(layout.ItemTable, layout.Items * d), [layout.Items, d]);
        var positions = g.Constant("positions", p.AsSpan(layout.Positions, length * d), [length, d]);
        var zeroId = g.Constant<long>("zero_id", [0], []);
        var zero = g.Scalar("zero", 0f);
        var masked = g.Scalar("masked", Masked);

        // Padding (negative ids) looks up row 0 and is masked out of every real position's attention.
        var valid = g.Node("GreaterOrEqual", [ItemsInput, zeroId]);
        var ids = g.Node("Where", [valid, ItemsInput, zeroId]);
        var embedded = g.Node("Gather", [table, ids], Graph.IntAttribute("axis", 0));
        var x = g.Node("Add", [g.Node("Mul", [embedded, g.Scalar("embedding_scale", MathF.Sqrt(d))]), positions]);

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
        return g.ToModel(
            SequentialOnnxProtobuf.ValueInfo(ItemsInput, SequentialOnnxProtobuf.ElementType<long>(), [null, length], "batch"),
            [
                SequentialOnnxProtobuf.ValueInfo(StateOutput, SequentialOnnxProtobuf.ElementType<float>(), [null, d], "batch"),
                SequentialOnnxProtobuf.ValueInfo(ScoresOutput, SequentialOnnxProtobuf.ElementType<float>(), [null, layout.Items], "batch"),
            ]);
    }

    /// <summary>Accumulates a GraphProto: nodes, initializers, inputs and outputs (protobuf allows any field order).</summary>
    private sealed class Graph
    {
        private readonly SequentialOnnxProtobuf _graph = new();
        private int _next;

        public static SequentialOnnxProtobuf IntAttribute(string name, long value) =>
            new SequentialOnnxProtobuf().String(1, name).Int(3, value).Int(20, 2);

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

        public byte[] ToModel(SequentialOnnxProtobuf input, SequentialOnnxProtobuf[] outputs)
        {
            _graph.String(2, "sequential").Message(11, input);
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
