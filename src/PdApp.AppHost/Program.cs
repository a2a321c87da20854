using PdApp.Hosting;

// The PD deployment, top to bottom: configuration -> backend -> engines -> gateway.
// Configuration: the "Pd" section of appsettings.json, environment (Pd__...), command line (--Pd:...),
// or a whole file (--PdConfig examples/nixl.json). See examples/README.md.
var builder = DistributedApplication.CreateBuilder(args);
builder.AddPdConfigurationFile(args);

// Deployment: `--publisher compose|kubernetes --output-path <dir>` writes compose.yaml/.env or Kubernetes
// manifests from this same model and exits (docs/deployment.md); `--publisher manifest` is Aspire's own.
builder.AddPdDeploymentPublishers();

// Topology: validated at start-up; errors name the setting to fix, and the app host exits with code 1.
if (!builder.TryGetPdOptions(out var pd, Console.Error))
{
    return 1;
}

// Backend: vLLM containers, the embedded simulator, or external instances (auto: logged with its reason).
// An explicit vllm backend on a machine without GPU containers exits with code 1, saying what to change.
if (await builder.TryResolvePdBackendAsync(pd, Console.Error) is not { } backend)
{
    return 1;
}

// Ports: every port the topology binds here must be free, or the app host exits naming the port, its holder
// and the setting to change (a foreign server on :8000 would otherwise answer the README's curl).
if (!builder.CheckPdPortsAreFree(pd, backend, Console.Error))
{
    return 1;
}

// Engines: prefill-0..N-1 and decode-0..M-1, each health-checked on /health.
var engines = builder.AddPdInstances<Projects.PdApp_Simulator>(pd, backend);

// Gateway: the PD proxy on Pd:ProxyPort (8000), configured by Pd:Proxy:* and referencing every engine. No WaitFor:
// models load for minutes, and the proxy reports not-ready until its instances are healthy.
builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName, pd.ProxyPort)
    .WithExternalHttpEndpoints() // The entry point for clients: external in the manifest (azd gives it ingress).
    .WithPdInstances(engines)
    .WithPdDashboard(engines); // Dashboard: instances nested under the proxy, URLs, test-request and drain commands, vLLM traces.

builder.Build().Run();
return 0;
