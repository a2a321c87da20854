using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>The <c>/admin/instances</c> handlers.</summary>
internal static partial class AdminInstanceHandlers
{
    private const int MaxBodyBytes = 64 * 1024;

    public static IResult List(IInstanceRegistry registry, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return Results.Ok(new InstanceListView([.. registry.Instances.OrderBy(i => i.Name, StringComparer.Ordinal).Select(i => InstanceView.From(i, now))]));
    }

    public static IResult Get(string name, IInstanceRegistry registry, TimeProvider time) =>
        registry.Find(name) is { } instance
            ? Results.Ok(InstanceView.From(instance, time.GetUtcNow()))
            : OpenAiErrorResult.UnknownInstance(name);

    public static async Task<IResult> AddAsync(HttpRequest request, InstanceRegistry registry, TimeProvider time, ILoggerFactory loggers, IOptions<AdminInstanceOptions> options)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return new OpenAiErrorResult(StatusCodes.Status413PayloadTooLarge, OpenAiErrorTypes.RequestTooLarge, $"The body must be at most {MaxBodyBytes} bytes.");
        }

        AddInstanceRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<AddInstanceRequest>(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            return OpenAiErrorResult.BadRequest($"The body must be a JSON object {{\"name\", \"role\", \"address\", \"kvAddress\"}}: {ex.Message}", ex.Path is { Length: > 2 } path ? path[2..] : null);
        }

        if (body is null)
        {
            return OpenAiErrorResult.BadRequest("The body must be a JSON object {\"name\", \"role\", \"address\", \"kvAddress\"}.", null);
        }

        if (string.IsNullOrWhiteSpace(body.Name) || !NamePattern().IsMatch(body.Name))
        {
            return OpenAiErrorResult.BadRequest("'name' is required: 1 to 200 letters, digits or . _ - @ #.", "name");
        }

        if (AddressInName().IsMatch(body.Name))
        {
            // Names reach clients in error messages; addresses must not (they stay in 'address', logs and this API).
            return OpenAiErrorResult.BadRequest("'name' must not contain an IP address; clients see instance names in errors. Put the address in 'address'.", "name");
        }

        if (!RoleParser.TryParse(body.Role, out var role))
        {
            return OpenAiErrorResult.BadRequest($"'role' must be Prefill, Decode or Both (was {Describe(body.Role)}).", "role");
        }

        if (!Uri.TryCreate(body.Address, UriKind.Absolute, out var address)
            || address.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(address.Host)
            || !string.IsNullOrEmpty(address.Query)
            || !string.IsNullOrEmpty(address.Fragment))
        {
            return OpenAiErrorResult.BadRequest($"'address' must be an absolute http or https URL such as http://10.0.0.5:8100 (was {Describe(body.Address)}).", "address");
        }

        if (InstanceAddressPolicy.Check(address, options.Value) is { } refused)
        {
            return OpenAiErrorResult.BadRequest(refused, "address");
        }

        if (!string.IsNullOrEmpty(body.KvAddress) && !HostPort.TryParse(body.KvAddress, out _, out _))
        {
            return OpenAiErrorResult.BadRequest($"'kvAddress' must be host:port (was {Describe(body.KvAddress)}).", "kvAddress");
        }

        var baseAddress = address.AbsolutePath.EndsWith('/') ? address : new Uri(address + "/");
        var instance = new UpstreamInstance(body.Name, role, baseAddress, InstanceSource.Admin, string.IsNullOrEmpty(body.KvAddress) ? null : body.KvAddress);
        if (!registry.TryAdd(instance))
        {
            return new OpenAiErrorResult(StatusCodes.Status409Conflict, OpenAiErrorTypes.InvalidRequest, $"Instance '{body.Name}' already exists; delete it first.", "name");
        }

        AdminLog.Added(loggers.CreateLogger(AdminLog.Category), instance.Name, instance.Role, instance.BaseAddress, instance.KvAddress);
        return Results.Created(PdAdminRoutes.Instance(instance.Name), InstanceView.From(instance, time.GetUtcNow()));
    }

    public static IResult Delete(string name, bool? drain, IInstanceRegistry registry, TimeProvider time, ILoggerFactory loggers)
    {
        if (registry.Find(name) is not { } instance)
        {
            return OpenAiErrorResult.UnknownInstance(name);
        }

        if (drain == true && instance.Outstanding > 0)
        {
            instance.IsDraining = true;
            instance.RemoveWhenDrained = true;
            AdminLog.DrainingForRemoval(loggers.CreateLogger(AdminLog.Category), name, instance.Outstanding);
            return Results.Accepted(PdAdminRoutes.Instance(name), InstanceView.From(instance, time.GetUtcNow()));
        }

        if (registry.Remove(name))
        {
            AdminLog.Removed(loggers.CreateLogger(AdminLog.Category), name);
        }

        return Results.NoContent();
    }

    public static IResult Drain(string name, IInstanceRegistry registry, TimeProvider time, ILoggerFactory loggers)
    {
        if (registry.Find(name) is not { } instance)
        {
            return OpenAiErrorResult.UnknownInstance(name);
        }

        instance.IsDraining = true;
        AdminLog.Drained(loggers.CreateLogger(AdminLog.Category), name);
        return Results.Ok(InstanceView.From(instance, time.GetUtcNow()));
    }

    public static IResult Undrain(string name, IInstanceRegistry registry, TimeProvider time, ILoggerFactory loggers)
    {
        if (registry.Find(name) is not { } instance)
        {
            return OpenAiErrorResult.UnknownInstance(name);
        }

        instance.RemoveWhenDrained = false;
        instance.IsDraining = false;
        AdminLog.Undrained(loggers.CreateLogger(AdminLog.Category), name);
        return Results.Ok(InstanceView.From(instance, time.GetUtcNow()));
    }

    private static string Describe(string? value) => value is null ? "missing" : $"'{value}'";

    // No ':' (a port, an IPv6 address): names are shown to clients, addresses are not.
    [GeneratedRegex("^[A-Za-z0-9._@#-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"(^|[^0-9])[0-9]{1,3}(\.[0-9]{1,3}){3}($|[^0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex AddressInName();
}
