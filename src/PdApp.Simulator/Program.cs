using PdApp.Simulator;
using PdApp.Simulator.Configuration;

try
{
    await SimulatorApp.Create(args).RunAsync();
    return 0;
}
catch (SimulatorArgumentException ex)
{
    // As argparse: usage error on stderr, exit status 2.
    Console.Error.WriteLine($"pdsim serve: error: {ex.Message}");
    return 2;
}
