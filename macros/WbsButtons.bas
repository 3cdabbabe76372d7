Attribute VB_Name = "WbsButtons"
' Macros behind the buttons of the wbs_tools plan workbook. Each one hands over to Python through
' xlwings' RunPython; the work is done by wbs_tools.excel.buttons.
Option Explicit

' Button "Recompute schedule"
Public Sub recompute()
    RunPython "import wbs_tools.excel.buttons as b; b.recompute()"
End Sub

' Button "Flag overdue actions"
Public Sub flag_overdue()
    RunPython "import wbs_tools.excel.buttons as b; b.flag_overdue()"
End Sub

' Button "Export status"
Public Sub export_status()
    RunPython "import wbs_tools.excel.buttons as b; b.export_status()"
End Sub
