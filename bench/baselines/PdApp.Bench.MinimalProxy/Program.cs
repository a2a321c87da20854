using PdApp.Bench.MinimalProxy;
using Yarp.ReverseProxy.Forwarder;

// One prefill instance, one decode instance, fixed by configuration (command line:
// --Prefill=http://127.0.0.1:8100 --Decode=http://127.0.0.1:8200 [--Connector=Nixl]).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddHttpForwarder();
builder.Services.AddSingleton(MinimalPdProxyOptions.From(builder.Configuration));
builder.Services.AddSingleton<MinimalPdProxy>();

var app = builder.Build();
var proxy = app.Services.GetRequiredService<MinimalPdProxy>();
app.MapPost("/v1/completions", proxy.HandleAsync);
app.MapPost("/v1/chat/completions", proxy.HandleAsync);
app.MapGet("/health", () => Results.Ok());

// For the bench's allocations-per-request figure (the proxy's comes from its /metrics).
app.MapGet("/allocated-bytes", () => GC.GetTotalAllocatedBytes());
app.Run();
