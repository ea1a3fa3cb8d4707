/* A stand-in for bcryptprimitives.dll's ProcessPrng, which Rust's standard
 * library (1.78+) imports and Wine 8.0 lacks. Used only by the Windows
 * scenario under Wine (tests/cli/windows.rs); never shipped. It fills the
 * buffer from RtlGenRandom (advapi32's SystemFunction036), in chunks,
 * because that takes a ULONG length. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
