using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's SharedStorageConnector (vllm/distributed/kv_transfer/kv_connector/v1/shared_storage_connector.py):
/// the producer writes the prompt's KV under <c>shared_storage_path</c> (default <c>/tmp</c>) in a folder
/// named by the MD5 of the prompt's token ids (int64 bytes) cut to whole blocks, the consumer looks
/// for that folder. As in vLLM, only full blocks of the prompt minus its last token are transferred
/// (<c>align_to_block_size(len(prompt) - 1)</c>), so a prompt of at most one block plus one token
/// never hits. The simulator writes one <c>pdsim-kv.json</c> in the folder instead of a
/// <c>{layer}.safetensors</c> per layer.
/// </summary>
internal sealed class SharedStorageKvConnector(KvConnectorContext context) : KvConnectorBase(context)
{
    /// <summary>The file the simulated KV lives in, inside the prompt's folder.</summary>
    public const string RecordFileName = "pdsim-kv.json";

    private readonly string _root = context.Extra(KvConnectorExtraConfigKeys.SharedStoragePath) ?? "/tmp";

    /// <inheritdoc />
    public override string Name => KvConnectorNames.SharedStorage;

    /// <summary>The folder vLLM would use for this prompt, or null when no full block can be transferred.</summary>
    public string? FolderFor(KvRequest request)
    {
        var tokens = AlignedTokens(request.PromptTokenIds.Length);
        if (tokens <= 0)
        {
            return null;
        }

        // numpy int64 tobytes(): 8 little-endian bytes per token id.
        var ids = new long[tokens];
        for (var i = 0; i < tokens; i++)
        {
            ids[i] = request.PromptTokenIds[i];
        }

        var hash = Convert.ToHexStringLower(MD5.HashData(MemoryMarshal.AsBytes(ids.AsSpan())));
        return Path.Combine(_root, hash);
    }

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        var folder = FolderFor(request);
        if (folder is null)
        {
            return KvConsumeResult.Miss($"prompt shorter than one block (+1 token) of {Context.Options.BlockSize}: nothing to load");
        }

        var file = Path.Combine(folder, RecordFileName);
        if (!File.Exists(file))
        {
            return KvConsumeResult.Miss($"no KV folder {folder}");
        }

        try
        {
            await using var stream = File.OpenRead(file);
            var record = await JsonSerializer.DeserializeAsync(stream, KvJsonContext.Default.KvRecord, cancellationToken).ConfigureAwait(false);
            var result = Verify(request, record, file);
            return result.Hit ? result with { TransferredTokens = AlignedTokens(request.PromptTokenIds.Length) } : result;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return KvConsumeResult.Miss($"unreadable KV file {file}: {ex.Message}");
        }
    }

    /// <inheritdoc />
    public override async Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        var folder = FolderFor(request);
        if (folder is null)
        {
            return KvProduceResult.NothingToTransfer("prompt shorter than one block (+1 token): nothing to save");
        }

        try
        {
            Directory.CreateDirectory(folder);

            // Write then rename, so a consumer never reads a half-written file.
            var temp = Path.Combine(folder, $"{RecordFileName}.{Guid.NewGuid():N}.tmp");
            await using (var stream = File.Create(temp))
            {
                await JsonSerializer.SerializeAsync(stream, record, KvJsonContext.Default.KvRecord, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, Path.Combine(folder, RecordFileName), overwrite: true);
            return KvProduceResult.Done();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return KvProduceResult.NotProduced($"cannot write {folder}: {ex.Message}");
        }
    }

    private int AlignedTokens(int promptTokens)
    {
        // vLLM: align_to_block_size(len(prompt_token_ids) - 1, block_size) = (n - 1) // bs * bs with n = len - 1.
        var blockSize = Context.Options.BlockSize;
        var n = promptTokens - 1;
        return n <= 0 ? 0 : (n - 1) / blockSize * blockSize;
    }
}
