#include <stdio.h>

/* Multiply two 3x3 matrices and print the result. */
static void multiply(const double a[3][3], const double b[3][3], double out[3][3]) {
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            out[i][j] = 0.0;
            for (int k = 0; k < 3; k++)
                out[i][j] += a[i][k] * b[k][j];
        }
}

int main(void) {
    double a[3][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
    double id[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    double r[3][3];
    multiply(a, id, r);
    for (int i = 0; i < 3; i++)
        printf("%.1f %.1f %.1f\n", r[i][0], r[i][1], r[i][2]);
    return 0;
}
