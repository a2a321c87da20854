#!/usr/bin/env python3
"""Attributes `perf script -F comm,tid,ip,sym,dso` samples of a .NET process to owners.

Each sample goes to the leaf-most managed frame outside CoreLib and the collections (that is, the
component whose code asked for the work): its assembly, or the namespace for PdApp code.
Samples in the JIT or EventSource (the cost of a dotnet-counters session attached alongside) are
left out. Usage: perf_owners.py <perf script text> <CPU ms per request over all samples>
"""
import collections
import re
import sys

ARTEFACT = re.compile(r'libclrjit|EventSource|ManifestBuilder|EventPipe')
METHOD = re.compile(r'\[([^\]]+)\] ([^\s:\[]+)::')
SHARED = {'System.Private.CoreLib', 'System.Runtime', 'System.Collections', 'System.Collections.Concurrent',
          'System.Linq', 'System.Memory', 'System.Threading'}


def samples(path):
    frames = []
    with open(path, errors='replace') as text:
        for line in text:
            if not line.strip():
                if frames:
                    yield frames
                frames = []
            elif line[0] in '\t ':
                match = re.match(r'\s+[0-9a-f]+\s+(.*)$', line.rstrip())
                if match:
                    frames.append(match.group(1))
    if frames:
        yield frames


def owner(frames):
    for frame in frames:
        methods = list(METHOD.finditer(frame))
        if not methods:
            continue
        module, type_name = methods[-1].group(1), methods[-1].group(2)
        if module in SHARED:
            continue
        if module.startswith('OpenTelemetry'):
            return 'OpenTelemetry SDK', None
        if module.startswith('PdApp.'):
            return '.'.join(type_name.split('.')[:3]), type_name.split('+')[0].split('`')[0]
        return module, None
    return '(no managed owner: kernel, runtime, thread pool)', None


def main():
    path, per_request = sys.argv[1], float(sys.argv[2])
    everything = list(samples(path))
    kept = [s for s in everything if not ARTEFACT.search('\n'.join(s))]
    owners, types = collections.Counter(), collections.Counter()
    for frames in kept:
        name, type_name = owner(frames)
        owners[name] += 1
        if type_name:
            types[type_name] += 1
    n, k = len(everything), len(kept)
    print(f'CPU per request: {per_request:.3f} ms over all samples, {per_request * k / n:.3f} ms without '
          f'the JIT/EventSource samples ({n - k} of {n})')
    for name, count in owners.most_common(25):
        print(f'{per_request * count / n:8.3f} ms/request {100 * count / k:5.1f}%  {name}')
    print('PdApp types (self):')
    for name, count in types.most_common(15):
        print(f'{per_request * count / n:8.3f} ms/request {100 * count / k:5.1f}%  {name}')


if __name__ == '__main__':
    main()
