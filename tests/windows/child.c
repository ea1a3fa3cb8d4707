/* The child program of the Windows scenario (tests/cli/windows.rs), run
 * by keyless.exe exec under Wine:
 *   child.exe OUT CODE [WAITFILE [spawn]]
 * writes its environment (NAME=value lines, UTF-8) to OUT (whole: through
 * OUT.tmp and a rename), then, with WAITFILE, waits until that file exists
 * (at most 120 s), and exits with CODE. With "spawn" it first starts a copy
 * of itself writing OUT.grand and waiting for the same file: a descendant
 * that must not outlive keyless either. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static void write_env(const wchar_t *out)
{
    wchar_t tmp[MAX_PATH * 2];
    swprintf(tmp, sizeof tmp / sizeof *tmp, L"%ls.tmp", out);
    FILE *f = _wfopen(tmp, L"wb");
    if (!f) exit(90);
    wchar_t *env = GetEnvironmentStringsW();
    for (wchar_t *p = env; *p; p += wcslen(p) + 1) {
        char line[65536];
        int n = WideCharToMultiByte(CP_UTF8, 0, p, -1, line, sizeof line, NULL, NULL);
        if (n > 0) fprintf(f, "%s\n", line);
    }
    FreeEnvironmentStringsW(env);
    fclose(f);
    if (!MoveFileExW(tmp, out, MOVEFILE_REPLACE_EXISTING)) exit(91);
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 3) return 92;
    if (argc >= 5 && wcscmp(argv[4], L"spawn") == 0) {
        wchar_t cmd[MAX_PATH * 8];
        swprintf(cmd, sizeof cmd / sizeof *cmd, L"\"%ls\" \"%ls.grand\" 0 \"%ls\"",
                 argv[0], argv[1], argv[3]);
        STARTUPINFOW si = { sizeof si };
        PROCESS_INFORMATION pi;
        if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
            return 93;
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
    write_env(argv[1]);
    if (argc >= 4) {
        for (int i = 0; i < 2400; i++) {
            if (GetFileAttributesW(argv[3]) != INVALID_FILE_ATTRIBUTES) break;
            Sleep(50);
        }
    }
    return _wtoi(argv[2]);
}
