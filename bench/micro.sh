#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks of the proxy's hot paths (bench/PdApp.Bench.Micro): prefill
# body rewrite, instance selection per policy, SSE relay through the proxy vs direct.
# Arguments go to BenchmarkDotNet; by default a short in-process job of every benchmark:
#   bench/micro.sh                                   # all, --job short --inProcess
#   bench/micro.sh --filter '*Selection*' --job medium
# Results land in BenchmarkDotNet.Artifacts/ (git-ignored).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-offline}" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$BENCH_DIR/PdApp.Bench.Micro" -c Release -nologo -v quiet
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--filter '*' --job short --inProcess)
cd "$BENCH_DIR"
exec timeout --signal=INT "${MICRO_TIMEOUT:-1800}" dotnet "$BENCH_DIR/PdApp.Bench.Micro/bin/Release/net10.0/PdApp.Bench.Micro.dll" "${args[@]}"
