using System.Reflection;
using System.Runtime.CompilerServices;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Routing.Health;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The move's code is compiled before the first decode dies: the parts the start-up rehearsal cannot run
/// (the pipeline's and the continuation forwarder's async methods with their builders' generic code, the
/// failed instance's ejection and the move's log line) are among the methods prepared.
/// </summary>
public sealed class MovePathPrecompilerTests
{
    [Fact]
    public void Run_PreparesTheMovesAsyncStateMachinesTheirBuildersAndTheEjection()
    {
        var prepared = MovePathPrecompiler.Run();

        Assert.Contains(prepared, m => IsMoveNextOf(m, typeof(PdRequestPipeline), "MigrateAsync"));
        Assert.Contains(prepared, m => IsMoveNextOf(m, typeof(PdRequestPipeline), "PrepareContinuationAsync"));
        Assert.Contains(prepared, m => IsMoveNextOf(m, typeof(ContinuationForwarder), "ForwardAsync"));
        Assert.Contains(prepared, m => IsMoveNextOf(m, typeof(ContinuationForwarder), "CopyAsync"));
        Assert.Contains(prepared, m => m is MethodInfo { IsGenericMethod: true, Name: "Start" } start
            && start.GetGenericArguments()[0].Name.Contains("<MigrateAsync>", StringComparison.Ordinal));
        Assert.Contains(prepared, m => m is MethodInfo { IsGenericMethod: true, Name: "AwaitUnsafeOnCompleted" } await
            && await.GetGenericArguments()[1].Name.Contains("<ForwardAsync>", StringComparison.Ordinal)
            && await.GetGenericArguments()[1].DeclaringType == typeof(ContinuationForwarder));
        Assert.Contains(prepared, m => m.DeclaringType == typeof(PassiveHealthTracker) && m.Name == nameof(PassiveHealthTracker.OnFailure));
        Assert.Contains(prepared, m => m.DeclaringType == typeof(ProxyLog) && m.Name == nameof(ProxyLog.Migrating));
        Assert.DoesNotContain(prepared, m => m.ContainsGenericParameters || m.IsAbstract);
    }

    private static bool IsMoveNextOf(MethodBase method, Type owner, string asyncMethod) =>
        method.Name == nameof(IAsyncStateMachine.MoveNext)
        && method.DeclaringType is { } machine
        && machine.DeclaringType == owner
        && machine.Name.StartsWith($"<{asyncMethod}>", StringComparison.Ordinal);
}
