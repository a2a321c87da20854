namespace PdApp.Protocol.Vllm;

/// <summary>How many values a vLLM command-line flag takes.</summary>
public enum VllmFlagArity
{
    /// <summary>A switch (<c>--enforce-eager</c>); <c>--flag=value</c> still works.</summary>
    None,

    /// <summary>One value (<c>--port 8000</c>).</summary>
    One,

    /// <summary>One or more values (<c>--served-model-name a b</c>).</summary>
    Many,
}
