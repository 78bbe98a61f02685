/* A stand-in for Windows' bcryptprimitives.dll, for Wine releases that lack it (Debian 12 ships
 * Wine 8.0). Rust's standard library (1.78 and later) draws its random numbers from
 * ProcessPrng() in that DLL, which every supported Windows has; without it the program does
 * not even load under such a Wine. tests/targets/run.sh builds this with mingw-w64 and puts it
 * next to onfail.exe only when the Wine prefix has no bcryptprimitives.dll of its own. It is
 * never shipped: release binaries run against the real DLL. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x7fffffffu ? 0x7fffffffu : (ULONG)len;
    if (!RtlGenRandom(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
