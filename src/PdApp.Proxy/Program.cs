var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddHttpForwarder();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point; public so tests can start the proxy in-process.</summary>
public partial class Program;
