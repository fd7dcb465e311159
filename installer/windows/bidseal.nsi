; BidSeal Windows installer (NSIS 3, Unicode). Per-user: no administrator rights, installs to
; %LOCALAPPDATA%\Programs\BidSeal, Start-menu entries for the current user, uninstaller in
; "Apps & features" (HKCU).
;
; Compile (on Windows, or on Linux with Debian's nsis package; paths with / or \):
;   makensis /DDIST=dist\bidseal /DLIBCRYPTO=C:\OpenSSL-Win64\bin\libcrypto-3-x64.dll ^
;            [/DX86HOST=dist\bidseal-token-host-x86] [/DVERSION=0.1.0] [/DOUTFILE=...] ^
;            installer\windows\bidseal.nsi
; DIST      the PyInstaller folder built on Windows (bidseal.exe, bidseal-gui.exe,
;           bidseal-token-host.exe, _internal\); installer/windows/build.ps1 makes it
; LIBCRYPTO OpenSSL 3 libcrypto-3-x64.dll, installed beside bidseal.exe: the SM2 backend
;           (app/gm/sm2/openssl_backend.py) and the virtual UKey look there
; X86HOST   optional: a 32-bit bidseal-token-host folder (32-bit Python + PyInstaller,
;           BIDSEAL_PYI_ONLY=token-host) for vendors that ship only a 32-bit SKF DLL
; Vendor SKF DLLs are not shipped: the CA's driver installer puts them in System32/SysWOW64
; or its own folder, where app/token/registry.py finds them (or `bidseal settings add-library`).

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef DIST
  !error "pass /DDIST=<PyInstaller folder>"
!endif
!ifndef LIBCRYPTO
  !error "pass /DLIBCRYPTO=<path to libcrypto-3-x64.dll>"
!endif
!ifndef OUTFILE
  !define OUTFILE "BidSeal-${VERSION}-x64-setup.exe"
!endif
; The bundle must be complete: refuse to package a half-built folder.
!if /FileExists "${DIST}\bidseal.exe"
!else
  !error "${DIST}\bidseal.exe missing"
!endif
!if /FileExists "${DIST}\bidseal-gui.exe"
!else
  !error "${DIST}\bidseal-gui.exe missing"
!endif
!if /FileExists "${DIST}\bidseal-token-host.exe"
!else
  !error "${DIST}\bidseal-token-host.exe missing"
!endif
!if /FileExists "${DIST}\_internal\app\token\skf_cdef.h"
!else
  !error "${DIST}\_internal\app\token\skf_cdef.h missing (SKF declarations)"
!endif
!ifdef X86HOST
  !if /FileExists "${X86HOST}\bidseal-token-host.exe"
  !else
    !error "${X86HOST}\bidseal-token-host.exe missing"
  !endif
!endif

!define APP "BidSeal"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\BidSeal"
!define ENV_KEY "Environment"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
; Per-user file types (HKCU\Software\Classes): .bse envelopes open in BidSeal, and BidSeal is
; offered under "Open with" for PDFs (never taken as the default PDF program).
!define CLASSES "Software\Classes"
!define PROGID_BSE "BidSeal.Envelope"
!define PROGID_PDF "BidSeal.PDF"
!define SHCNE_ASSOCCHANGED 0x08000000

Name "BidSeal ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\BidSeal"
InstallDirRegKey HKCU "Software\BidSeal" "InstallDir"
BrandingText "BidSeal ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=2052 "ProductName" "BidSeal"
VIAddVersionKey /LANG=2052 "FileDescription" "BidSeal 投标签章与解密客户端安装程序"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "LegalCopyright" "BidSeal"

!include "MUI2.nsh"
!include "WinMessages.nsh"
!define MUI_ICON "..\icons\bidseal.ico"
!define MUI_UNICON "..\icons\bidseal.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\bidseal-gui.exe"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString NAME_MAIN ${LANG_SIMPCHINESE} "BidSeal 投标签章（必需）"
LangString NAME_MAIN ${LANG_ENGLISH} "BidSeal (required)"
LangString NAME_DESKTOP ${LANG_SIMPCHINESE} "桌面快捷方式"
LangString NAME_DESKTOP ${LANG_ENGLISH} "Desktop shortcut"
LangString NAME_X86 ${LANG_SIMPCHINESE} "32 位 UKey 驱动支持（仅当证书厂商只提供 32 位 SKF 驱动时选择）"
LangString NAME_X86 ${LANG_ENGLISH} "32-bit UKey driver support (only if your CA ships a 32-bit SKF DLL only)"
LangString LINK_APP ${LANG_SIMPCHINESE} "BidSeal 投标签章"
LangString LINK_APP ${LANG_ENGLISH} "BidSeal Bid Sealing"
LangString LINK_UNINST ${LANG_SIMPCHINESE} "卸载 BidSeal"
LangString LINK_UNINST ${LANG_ENGLISH} "Uninstall BidSeal"
LangString NAME_AUTOSTART ${LANG_SIMPCHINESE} "登录时启动（网页投标助手）"
LangString NAME_AUTOSTART ${LANG_ENGLISH} "Start at login (helper for bidding web pages)"
LangString TYPE_BSE ${LANG_SIMPCHINESE} "BidSeal 投标文件加密信封"
LangString TYPE_BSE ${LANG_ENGLISH} "BidSeal bid envelope"
LangString TYPE_PDF ${LANG_SIMPCHINESE} "PDF 文档（BidSeal）"
LangString TYPE_PDF ${LANG_ENGLISH} "PDF document (BidSeal)"

Function .onInit
  SetShellVarContext current
FunctionEnd

Function un.onInit
  SetShellVarContext current
FunctionEnd

Section "!$(NAME_MAIN)" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${DIST}\*.*"
  ; Beside bidseal.exe: the SM2 backend and softskf.dll load it from the executable's folder.
  File "/oname=libcrypto-3-x64.dll" "${LIBCRYPTO}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\BidSeal"
  CreateShortcut "$SMPROGRAMS\BidSeal\$(LINK_APP).lnk" "$INSTDIR\bidseal-gui.exe" "" "$INSTDIR\bidseal-gui.exe" 0
  CreateShortcut "$SMPROGRAMS\BidSeal\$(LINK_UNINST).lnk" "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\BidSeal" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "BidSeal ${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "BidSeal"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\bidseal-gui.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ; .bse: BidSeal's own type; PDF: only an "Open with" entry.
  WriteRegStr HKCU "${CLASSES}\.bse" "" "${PROGID_BSE}"
  WriteRegStr HKCU "${CLASSES}\.bse" "Content Type" "application/x-bidseal-envelope"
  WriteRegStr HKCU "${CLASSES}\${PROGID_BSE}" "" "$(TYPE_BSE)"
  WriteRegStr HKCU "${CLASSES}\${PROGID_BSE}\DefaultIcon" "" "$INSTDIR\bidseal-gui.exe,0"
  WriteRegStr HKCU "${CLASSES}\${PROGID_BSE}\shell\open\command" "" '"$INSTDIR\bidseal-gui.exe" "%1"'
  WriteRegStr HKCU "${CLASSES}\${PROGID_PDF}" "" "$(TYPE_PDF)"
  WriteRegStr HKCU "${CLASSES}\${PROGID_PDF}\DefaultIcon" "" "$INSTDIR\bidseal-gui.exe,0"
  WriteRegStr HKCU "${CLASSES}\${PROGID_PDF}\shell\open\command" "" '"$INSTDIR\bidseal-gui.exe" "%1"'
  WriteRegStr HKCU "${CLASSES}\.pdf\OpenWithProgids" "${PROGID_PDF}" ""
  System::Call 'shell32::SHChangeNotify(i ${SHCNE_ASSOCCHANGED}, i 0, p 0, p 0)'
SectionEnd

; On by default, can be unticked here and turned off later in Task Manager > Startup apps:
; the window hosts the localhost helper (bidseal settings set helper off turns the helper off).
Section "$(NAME_AUTOSTART)" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "BidSeal" '"$INSTDIR\bidseal-gui.exe"'
SectionEnd

Section /o "$(NAME_DESKTOP)" SecDesktop
  CreateShortcut "$DESKTOP\$(LINK_APP).lnk" "$INSTDIR\bidseal-gui.exe" "" "$INSTDIR\bidseal-gui.exe" 0
SectionEnd

!ifdef X86HOST
Section /o "$(NAME_X86)" SecX86
  SetOutPath "$INSTDIR\x86"
  File /r "${X86HOST}\*.*"
  ; Nothing to configure: the token layer starts this host for a 32-bit SKF DLL only
  ; (app/token/host_client.py other_bitness_host), 64-bit DLLs keep the 64-bit host.
SectionEnd
!endif

Section "Uninstall"
  ; Only what the installer put there: never RMDir /r a folder the user chose.
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\x86"
  Delete "$INSTDIR\bidseal.exe"
  Delete "$INSTDIR\bidseal-gui.exe"
  Delete "$INSTDIR\bidseal-token-host.exe"
  Delete "$INSTDIR\libcrypto-3-x64.dll"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\BidSeal\*.lnk"
  RMDir "$SMPROGRAMS\BidSeal"
  Delete "$DESKTOP\BidSeal 投标签章.lnk"
  Delete "$DESKTOP\BidSeal Bid Sealing.lnk"
  ReadRegStr $0 HKCU "${ENV_KEY}" "BIDSEAL_TOKEN_HOST"
  StrCmp $0 "$INSTDIR\x86\bidseal-token-host.exe" 0 +3
    DeleteRegValue HKCU "${ENV_KEY}" "BIDSEAL_TOKEN_HOST"
    SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
  DeleteRegValue HKCU "${RUN_KEY}" "BidSeal"
  ; File types: remove BidSeal's ProgIDs; .bse's default only if it is still BidSeal's.
  ; The user's PDF settings are never touched: only BidSeal's "Open with" value goes.
  ReadRegStr $0 HKCU "${CLASSES}\.bse" ""
  StrCmp $0 "${PROGID_BSE}" 0 +2
    DeleteRegKey HKCU "${CLASSES}\.bse"
  DeleteRegKey HKCU "${CLASSES}\${PROGID_BSE}"
  DeleteRegValue HKCU "${CLASSES}\.pdf\OpenWithProgids" "${PROGID_PDF}"
  DeleteRegKey HKCU "${CLASSES}\${PROGID_PDF}"
  System::Call 'shell32::SHChangeNotify(i ${SHCNE_ASSOCCHANGED}, i 0, p 0, p 0)'
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\BidSeal"
  ; The user's settings, trust roots, logs (%APPDATA%\BidSeal) and keys stay.
SectionEnd

LangString DESC_MAIN ${LANG_SIMPCHINESE} "签章、验章、投标文件加密与解密，以及 UKey 服务程序。"
LangString DESC_MAIN ${LANG_ENGLISH} "Sealing, verification, bid-file encryption and decryption, and the UKey service program."
LangString DESC_AUTOSTART ${LANG_SIMPCHINESE} "登录 Windows 时打开 BidSeal，交易平台网页可通过本机助手使用 UKey。可在任务管理器的“启动应用”中关闭。"
LangString DESC_AUTOSTART ${LANG_ENGLISH} "Opens BidSeal at Windows login so the hub's web pages reach the UKey through the local helper. Turn it off in Task Manager > Startup apps."
LangString DESC_X86 ${LANG_SIMPCHINESE} "安装 32 位 UKey 服务程序，并让 BidSeal 用它加载 32 位厂商驱动。"
LangString DESC_X86 ${LANG_ENGLISH} "Installs the 32-bit UKey service program and makes BidSeal load vendor drivers with it."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} $(DESC_MAIN)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} $(DESC_AUTOSTART)
!ifdef X86HOST
  !insertmacro MUI_DESCRIPTION_TEXT ${SecX86} $(DESC_X86)
!endif
!insertmacro MUI_FUNCTION_DESCRIPTION_END
