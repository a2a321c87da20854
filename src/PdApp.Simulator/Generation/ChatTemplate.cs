using System.Text;

namespace PdApp.Simulator.Generation;

/// <summary>One chat message after content parts were joined.</summary>
/// <param name="Role">system, user, assistant, tool.</param>
/// <param name="Content">The text.</param>
internal sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A fixed ChatML-style template (as Qwen's and many HF chat templates render): every message, then
/// the generation prompt. vLLM counts chat prompt tokens after applying the model's template; a fixed
/// template keeps counts stable across instances.
/// </summary>
internal static class ChatTemplate
{
    /// <summary>Renders the messages and the assistant generation prompt.</summary>
    public static string Render(IReadOnlyList<ChatMessage> messages)
    {
        var builder = new StringBuilder();
        foreach (var message in messages)
        {
            builder.Append("<|im_start|>").Append(message.Role).Append('\n').Append(message.Content).Append("<|im_end|>\n");
        }

        return builder.Append("<|im_start|>assistant\n").ToString();
    }
}
