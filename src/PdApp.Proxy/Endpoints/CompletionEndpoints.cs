using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Admission;
using PdApp.Proxy.Diagnostics;
using PdApp.Proxy.Disaggregation;
using PdApp.Proxy.Hosting;
using PdApp.Proxy.Options;
using PdApp.Proxy.Requests;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c>: admission, body limit,
/// validation, then the PD flow; one log line and one metric per request.
/// </summary>
public static class CompletionEndpoints
{
    /// <summary>Maps both routes.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The builder.</returns>
    public static IEndpointRouteBuilder MapPdCompletions(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(OpenAiRoutes.CompletionsPath, context => HandleAsync(context, OpenAiRoute.Completions));
        endpoints.MapPost(OpenAiRoutes.ChatCompletionsPath, context => HandleAsync(context, OpenAiRoute.ChatCompletions));
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, OpenAiRoute route)
    {
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<ProxyMetrics>();
        var pipeline = services.GetRequiredService<PdRequestPipeline>();
        var flow = services.GetRequiredService<DisaggregationFlow>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CompletionEndpoints).FullName!);
        var requestId = context.GetRequestId();
        var exchange = new PdExchange();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await ServeAsync(context, route, requestId, exchange);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; every upstream call was cancelled with it.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // A bug, not an upstream failure (those are handled as values): still answer in OpenAI's shape.
            ProxyLog.UnexpectedFailure(logger, ex, requestId);
            context.Response.Clear();
            await OpenAiErrorWriter.WriteAsync(
                context.Response,
                StatusCodes.Status500InternalServerError,
                OpenAiErrorTypes.Server,
                $"The proxy failed to serve request {requestId}.",
                cancellationToken: context.RequestAborted);
        }
        finally
        {
            // 499 (nginx's "client closed request") for the log and metric when the client left
            // before a response was sent.
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted
                ? 499
                : context.Response.StatusCode;
            var elapsed = Stopwatch.GetElapsedTime(started);
            var path = OpenAiRoutes.PathOf(route);
            metrics.RequestCompleted(path, status, flow.Connector, elapsed.TotalSeconds);
            ProxyLog.RequestCompleted(
                logger, requestId, path, status, elapsed.TotalMilliseconds, exchange.ModeName, exchange.PrefillInstance, exchange.DecodeInstance, exchange.KvTransfer);
        }

        async Task ServeAsync(HttpContext context, OpenAiRoute route, string requestId, PdExchange exchange)
        {
            var options = services.GetRequiredService<IOptions<ProxyOptions>>().Value;
            var admission = services.GetRequiredService<AdmissionController>();
            using var admitted = await admission.AdmitAsync(context.RequestAborted);
            if (!admitted.IsAdmitted)
            {
                metrics.AdmissionRejected(admitted.Reason);
                ProxyLog.AdmissionRejected(logger, requestId, admitted.Reason);
                var seconds = Math.Max(1, (int)Math.Ceiling(admitted.RetryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await OpenAiErrorWriter.WriteAsync(
                    context.Response,
                    StatusCodes.Status429TooManyRequests,
                    OpenAiErrorTypes.RateLimit,
                    admitted.Rejection == AdmissionRejection.RateLimited
                        ? "Rate limit exceeded; retry later."
                        : "The proxy's request queue is full; retry later.",
                    cancellationToken: context.RequestAborted);
                return;
            }

            var (body, tooLarge) = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, context.RequestAborted);
            if (tooLarge is not null)
            {
                await tooLarge.WriteAsync(context.Response, context.RequestAborted);
                return;
            }

            var servedModel = services.GetRequiredService<IOptions<PdOptions>>().Value.Model;
            if (!CompletionRequestParser.TryParse(route, body, string.IsNullOrEmpty(servedModel) ? null : servedModel, out var request, out var invalid))
            {
                await invalid!.WriteAsync(context.Response, context.RequestAborted);
                return;
            }

            using (request)
            {
                await pipeline.RunAsync(context, request!, requestId, exchange);
            }
        }
    }
}
