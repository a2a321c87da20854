var builder = DistributedApplication.CreateBuilder(args);

builder.AddProject<Projects.PdApp_Proxy>("proxy");

builder.Build().Run();
