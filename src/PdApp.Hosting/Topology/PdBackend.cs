namespace PdApp.Hosting.Topology;

/// <summary>What runs the prefill and decode engines (<c>Pd:Backend</c>).</summary>
public enum PdBackend
{
    /// <summary><see cref="Vllm"/> when publishing or when a container runtime with NVIDIA GPUs is found; <see cref="Simulator"/> otherwise.</summary>
    Auto,

    /// <summary>vLLM containers (a GPU host with Docker and the NVIDIA runtime).</summary>
    Vllm,

    /// <summary>PdApp.Simulator projects with the same names, roles, arguments and endpoints; no GPU needed.</summary>
    Simulator,

    /// <summary>Instances already running elsewhere, given by URL (<c>Pd:External:Prefill:0</c>, ...).</summary>
    External,
}
