using System.Reflection;
using System.Runtime.CompilerServices;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Health;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Compiles the code of a move that <see cref="MigrationWarmUp"/>'s rehearsal cannot run without a
/// real request and a second decode (the pipeline's and the continuation forwarder's async state
/// machines, the ejection of the failed instance and its log, the move's log lines), with
/// <see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle)"/>: the code the JIT would otherwise compile
/// at the first failure (its first tier, so tiering still optimises what runs hot).
/// Without it the first move of the process compiles about 50-70 methods while the other streams'
/// failures, which need the same methods, wait for each of them (RESULTS.md 5.6, 5.7). Nothing is run.
/// </summary>
internal static class MovePathPrecompiler
{
    private const BindingFlags Declared =
        BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    // The types whose code a move runs, with their nested types (async state machines, lambdas'
    // closures, generated logging helpers); the code shared with every request is compiled already.
    // The observability layer's few small methods of a move (metric, span event) are left to their first
    // call: naming them here would make the pipeline depend on that layer, which depends on the pipeline.
    private static readonly Type[] MovePath =
    [
        typeof(PdRequestPipeline),
        typeof(ContinuationForwarder),
        typeof(DecodeBodyGuardStream),
        typeof(SseEventRelayStream),
        typeof(StreamProgress),
        typeof(MigrationState),
        typeof(MigrationTimeline),
        typeof(ContinuationEventRewriter),
        typeof(PassiveHealthTracker),
        typeof(UpstreamInstance),
        typeof(InstanceLease),
        typeof(DecodeCall),
        typeof(RoutingContext),
        typeof(UpstreamFailureText),
        typeof(ProxyLog),
    ];

    /// <summary>Compiles the move path's methods; a method that cannot be prepared is skipped.</summary>
    /// <returns>The methods prepared (generic ones as instantiated).</returns>
    public static IReadOnlyList<MethodBase> Run()
    {
        var prepared = new List<MethodBase>(512);
        foreach (var type in MovePath)
        {
            PrepareType(type, prepared);
        }

        return prepared;
    }

    private static void PrepareType(Type type, List<MethodBase> prepared)
    {
        if (type.ContainsGenericParameters || type.IsInterface)
        {
            return;
        }

        foreach (var method in type.GetMethods(Declared))
        {
            Prepare(method, prepared);
        }

        foreach (var constructor in type.GetConstructors(Declared))
        {
            // A type initializer is run by the runtime when due, never prepared here.
            if (!constructor.IsStatic)
            {
                Prepare(constructor, prepared);
            }
        }

        if (typeof(IAsyncStateMachine).IsAssignableFrom(type))
        {
            PrepareBuilderFor(type, prepared);
        }

        foreach (var nested in type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
        {
            PrepareType(nested, prepared);
        }
    }

    // An async method's builder is generic over its state machine: its Start and its awaits are compiled
    // per state machine (a struct in a release build, so code of its own; a class in a debug build, so the
    // shared code for reference types), at the method's first call and first real await.
    private static void PrepareBuilderFor(Type stateMachine, List<MethodBase> prepared)
    {
        var builder = stateMachine.GetField("<>t__builder", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.FieldType;
        if (builder is null)
        {
            return;
        }

        var awaiters = stateMachine.GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
            .Where(field => field.Name.StartsWith("<>u__", StringComparison.Ordinal))
            .Select(field => field.FieldType)
            .Distinct()
            .ToArray();
        foreach (var method in builder.GetMethods(BindingFlags.Instance | BindingFlags.Public))
        {
            if (method.Name == nameof(AsyncTaskMethodBuilder.Start))
            {
                PrepareGeneric(method, prepared, stateMachine);
            }
            else if (method.Name == nameof(AsyncTaskMethodBuilder.AwaitUnsafeOnCompleted))
            {
                foreach (var awaiter in awaiters)
                {
                    PrepareGeneric(method, prepared, awaiter, stateMachine);
                }
            }
        }
    }

    private static void PrepareGeneric(MethodInfo definition, List<MethodBase> prepared, params Type[] arguments)
    {
        MethodInfo method;
        try
        {
            method = definition.MakeGenericMethod(arguments);
        }
        catch (ArgumentException)
        {
            // An awaiter that does not meet the method's constraints: that await takes another overload.
            return;
        }

        Prepare(method, prepared);
    }

    private static void Prepare(MethodBase method, List<MethodBase> prepared)
    {
        var implementation = method.GetMethodImplementationFlags();
        if (method.IsAbstract || method.ContainsGenericParameters
            || (implementation & MethodImplAttributes.CodeTypeMask) != MethodImplAttributes.IL
            || (implementation & MethodImplAttributes.InternalCall) != 0
            || method.GetMethodBody() is null)
        {
            return;
        }

        try
        {
            // A method that was never called may have no entry point yet, and PrepareMethod only compiles
            // a method whose entry point leads to the prestub (without this, virtual methods, e.g. interface
            // implementations such as PassiveHealthTracker.OnFailure, were left to their first call).
            _ = method.MethodHandle.GetFunctionPointer();
            RuntimeHelpers.PrepareMethod(method.MethodHandle);
            prepared.Add(method);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or TypeLoadException)
        {
            // Not preparable on its own (e.g. shared generic code): compiled at its first call as before.
        }
    }
}
