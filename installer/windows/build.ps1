# Build the Windows installer of BidSeal on a Windows 10/11 build machine (x64).
# UNTESTED: written and reviewed on Linux; no Windows machine was available (installer/README.md).
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 `
#       -Libcrypto C:\OpenSSL-Win64\bin\libcrypto-3-x64.dll `
#       [-Python py -3.11] [-Python32 C:\Python311-32\python.exe] [-Makensis "C:\Program Files (x86)\NSIS\makensis.exe"]
#
# Needs: Python 3.11+ x64 (python.org), OpenSSL 3 for Windows (libcrypto-3-x64.dll; also the
# headers/libs when the virtual UKey softskf.dll is built: CMake + MinGW-w64 or MSVC),
# NSIS 3. With -Python32 a 32-bit bidseal-token-host is built too (optional installer part).
param(
  [Parameter(Mandatory = $true)][string]$Libcrypto,
  [string]$Python = "py -3.11",
  [string]$Python32 = "",
  [string]$Makensis = "makensis",
  [string]$OpenSSLRoot = "C:/OpenSSL-Win64",
  [switch]$NoSoftskf
)
$ErrorActionPreference = "Stop"
$PSNativeCommandUseErrorActionPreference = $true  # PowerShell 7.3+: a failing native command stops the build
$Root = Resolve-Path "$PSScriptRoot\..\.."
Set-Location $Root

function New-BuildVenv([string]$py, [string]$dir, [switch]$TokenHostOnly) {
  if (-not (Test-Path "$dir\Scripts\python.exe")) { Invoke-Expression "$py -m venv $dir" }
  & "$dir\Scripts\python.exe" -m pip install -q --upgrade pip
  # Runtime dependencies exactly as pyproject.toml lists them, plus PyInstaller; for the token
  # host alone, without what it never imports (manifest.TOKEN_HOST_SKIPPED_DISTRIBUTIONS: Qt
  # has no 32-bit wheels).
  $only = if ($TokenHostOnly) { @("--token-host-only") } else { @() }
  & "$dir\Scripts\python.exe" installer\pyinstaller\manifest.py requirements @only |
    Out-File -Encoding ascii "$dir\requirements.txt"
  & "$dir\Scripts\python.exe" -m pip install -q -r "$dir\requirements.txt" -r installer\pyinstaller\requirements.txt
}

# 1. The virtual UKey (demo device, opt-in at run time) unless -NoSoftskf.
if (-not $NoSoftskf) {
  cmake -S native/softskf -B build/softskf-win -DOPENSSL_ROOT_DIR=$OpenSSLRoot
  cmake --build build/softskf-win --config Release
  $dll = Get-ChildItem -Recurse build/softskf-win -Filter softskf.dll | Select-Object -First 1
  $env:BIDSEAL_SOFTSKF_BUILD = $dll.FullName
} else {
  $env:BIDSEAL_NO_SOFTSKF = "1"
}

# 2. The 64-bit application: bidseal.exe, bidseal-gui.exe (windowed), bidseal-token-host.exe.
New-BuildVenv $Python "build\pyinstaller\venv-win64"
& build\pyinstaller\venv-win64\Scripts\python.exe -m PyInstaller --noconfirm --clean `
  --distpath dist --workpath build\pyinstaller\work-win64 installer\pyinstaller\bidseal.spec
Copy-Item $Libcrypto dist\bidseal\libcrypto-3-x64.dll  # beside bidseal.exe (SM2 backend, softskf.dll)

# 3. Optional 32-bit token host for 32-bit vendor SKF DLLs.
$nsisArgs = @("/DDIST=$Root\dist\bidseal", "/DLIBCRYPTO=$Libcrypto")
if ($Python32) {
  New-BuildVenv $Python32 "build\pyinstaller\venv-win32" -TokenHostOnly
  $env:BIDSEAL_PYI_ONLY = "token-host"
  & build\pyinstaller\venv-win32\Scripts\python.exe -m PyInstaller --noconfirm --clean `
    --distpath dist\x86 --workpath build\pyinstaller\work-win32 installer\pyinstaller\bidseal.spec
  Remove-Item Env:\BIDSEAL_PYI_ONLY
  $nsisArgs += "/DX86HOST=$Root\dist\x86\bidseal-token-host"
}

# 4. Smoke test of the folder, then the installer.
$checkArgs = @("installer\pyinstaller\check_bundle.py", "dist\bidseal", "--platform", "win32")
if ($NoSoftskf) { $checkArgs += "--no-softskf" }
& build\pyinstaller\venv-win64\Scripts\python.exe @checkArgs
if ($LASTEXITCODE -ne 0) { throw "incomplete bundle" }
& dist\bidseal\bidseal.exe --version
& dist\bidseal\bidseal.exe diagnose --json | Out-Null
$version = (& dist\bidseal\bidseal.exe --version).Split(" ")[1]
$nsisArgs += "/DVERSION=$version"
$nsisArgs += "/DOUTFILE=$Root\dist\BidSeal-$version-x64-setup.exe"
& $Makensis @nsisArgs installer\windows\bidseal.nsi
Write-Host "dist\BidSeal-$version-x64-setup.exe"
