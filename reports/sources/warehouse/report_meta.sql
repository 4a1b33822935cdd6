select * from report_meta
