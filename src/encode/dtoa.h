/* dtoa.h - shortest round-trip text of a double (Ryu, Ulf Adams 2018).
 *
 * dtoa_shortest() writes the fewest significant digits that strtod() reads
 * back as exactly v (of those, the one nearest v), as JSON number syntax.
 * Layout follows JavaScript's Number.prototype.toString: plain decimal when
 * 1e-7 < |v| < 1e21 ("0.1", "0.000001", "123.45"), otherwise exponent form
 * with an explicit sign ("1e+21", "1e-7", "5e-324", "1.7976931348623157e+308").
 * Unlike JavaScript, a value with no fraction in plain form keeps ".0"
 * ("3.0", "100.0", "0.0", "-0.0") so readers keep it a float; exponent
 * forms are floats to every JSON reader already.
 *
 * v must be finite (asserted). The text is not NUL-terminated; its length
 * (at most 25) is returned. */
#ifndef SLUICE_DTOA_H
#define SLUICE_DTOA_H

#include <stddef.h>

size_t dtoa_shortest(double v, char out[32]);

#endif
