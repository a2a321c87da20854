using PdApp.Bench.Measurement;
using PdApp.Bench.Targets;

namespace PdApp.Bench.Load;

/// <summary>A target with the recorder of its measurements in the current run.</summary>
/// <param name="Target">The target.</param>
/// <param name="Recorder">Its recorder.</param>
internal sealed record TargetSlot(IBenchTarget Target, MetricsRecorder Recorder);
