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
    public static string Render(IReadOnlyList<ChatMessage> messages) => Render(messages, addGenerationPrompt: true, continueFinalMessage: false);

    /// <summary>
    /// Renders the messages as vLLM's <c>apply_chat_template</c> does with these flags: with
    /// <paramref name="continueFinalMessage"/> the last message is left open (no end marker) so the
    /// model continues it; an assistant prefix then renders exactly as the generation prompt followed
    /// by that text.
    /// </summary>
    public static string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool continueFinalMessage)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var builder = new StringBuilder();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            builder.Append("<|im_start|>").Append(message.Role).Append('\n').Append(message.Content);
            if (!(continueFinalMessage && i == messages.Count - 1))
            {
                builder.Append("<|im_end|>\n");
            }
        }

        return addGenerationPrompt ? builder.Append("<|im_start|>assistant\n").ToString() : builder.ToString();
    }
}
