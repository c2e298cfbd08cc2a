# Turn the status page (page.html) into a C string: page_html in
# page-html.c.  Each line becomes one literal; \ " and ? are escaped (the
# last so that no "??" makes a trigraph).
BEGIN {
	print "/* Made from daemon/page.html by daemon/page-embed.awk: do not edit. */"
	print "extern const char page_html[];"
	print "const char page_html[] ="
}
{
	gsub(/\\/, "\\\\")
	gsub(/"/, "\\\"")
	gsub(/\?/, "\\?")
	gsub(/\t/, "\\t")
	print "\"" $0 "\\n\""
}
END {
	print ";"
}
