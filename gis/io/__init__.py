"""Reading and writing files a user names: uploads, spreadsheet-safe CSV."""
