using PdApp.Proxy;

await ProxyApp.Create(args).RunAsync();
